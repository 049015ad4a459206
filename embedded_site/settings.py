"""Settings for the embedded demo site.

The site only ever listens on 127.0.0.1, so only loopback host names are allowed.  Its
SQLite file and secret key live in the user's data directory (``EXPLORER_DATA_DIR``
overrides it, which the tests use), and the key is generated once per installation.
"""

from __future__ import annotations

from pathlib import Path

from .datadir import DATABASE_FILE, data_dir, secret_key

BASE_DIR = Path(__file__).resolve().parent
# Both raise SiteSetupError (one line, naming the directory) when the data dir is unusable;
# a bad key file is set aside and replaced.
DATA_DIR = data_dir()
SECRET_KEY = secret_key(DATA_DIR)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# contrib.auth and sessions (with contenttypes, which auth needs) are here for the demos of
# startproject's middleware stack and of Django's async auth and session API.
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "embedded_site.demos",
]

# A cheap hasher first: the auth demos are about thread hops, not hashing (see demos/hashers.py).
PASSWORD_HASHERS = [
    "embedded_site.demos.hashers.LabPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

MIDDLEWARE = [
    "embedded_site.tracing.middleware.TraceMiddleware",
    "embedded_site.hosts.AllowedHostMiddleware",
    "embedded_site.origins.origin_guard",
]

ROOT_URLCONF = "embedded_site.urls"
ASGI_APPLICATION = "embedded_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / DATABASE_FILE,
        "OPTIONS": {
            # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at the
            # start of a transaction instead of failing half-way with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            # busy_timeout, seconds. SQLite's busy handler polls (sleeps of up to 100 ms, in no
            # order), so with many writers one of them can keep losing the lock for seconds
            # while the queue as a whole drains: with 5 s, orm-async-write -c 200 -n 1000 got
            # 4-27 "database is locked" 500s on a loaded 2-core machine. 30 s covers the largest
            # concurrency the lab allows; a lock that is really stuck still fails, within a run.
            "timeout": 30,
        },
    }
}

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {
        # Failing demos fail on purpose; the explorer records the exception itself and
        # shows it with the request, so Django's 500 tracebacks would only be noise.
        "django.request": {"handlers": ["null"], "propagate": False},
        "django.tasks": {"handlers": ["null"], "propagate": False},
    },
}
