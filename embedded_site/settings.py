"""Settings for the embedded demo site.

The site only ever listens on 127.0.0.1, so only loopback host names are allowed.  Its
SQLite file and secret key live in the user's data directory (``EXPLORER_DATA_DIR``
overrides it, which the tests use), and the key is generated once per installation.
"""

from __future__ import annotations

from pathlib import Path

from .datadir import DATABASE_FILE, data_dir, secret_key
from .dbconfig import databases, is_postgres

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

# SQLite in the data directory unless EXPLORER_DB names a PostgreSQL server (dbconfig.py).
DATABASES = databases(DATA_DIR / DATABASE_FILE)
if is_postgres(DATABASES):
    INSTALLED_APPS.append("django_async_backend")
    # Its warning is about WSGI's loop per request; the lab serves ASGI on one loop.
    ASYNC_BACKEND_DISABLE_POOL_WARNING = True

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
