"""Settings for the embedded demo site.

The site only ever listens on 127.0.0.1, so only loopback host names are allowed.  Its
SQLite file and secret key live in the user's data directory (``EXPLORER_DATA_DIR``
overrides it, which the tests use), and the key is generated once per installation.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from platformdirs import user_data_dir

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("EXPLORER_DATA_DIR") or user_data_dir("django-async-explorer"))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = ["embedded_site.demos"]

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
        "NAME": DATA_DIR / "explorer.sqlite3",
        "OPTIONS": {
            # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at the
            # start of a transaction instead of failing half-way with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 5,  # busy_timeout, seconds
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
