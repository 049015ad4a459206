"""Which database the demo site uses, read from the environment before Django starts.

SQLite in the data directory is the default.  ``EXPLORER_DB`` set to a ``postgres://`` URL
points the site at a PostgreSQL server instead (the front ends set it, from ``--db`` or the
window's setting, before ``setup_django``); ``EXPLORER_DB_POOL=1`` turns on Django's psycopg
pool and ``EXPLORER_DB_CONN_MAX_AGE`` sets ``CONN_MAX_AGE``.  Parsing lives here, away from
the settings module, so the front ends can check a URL (one line, exit 2) before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DB_ENV = "EXPLORER_DB"
POOL_ENV = "EXPLORER_DB_POOL"
CONN_MAX_AGE_ENV = "EXPLORER_DB_CONN_MAX_AGE"
POOL_MAX_ENV = "EXPLORER_DB_POOL_MAX"
SCHEMES = ("postgres", "postgresql")
# Django's pool default (psycopg_pool's) would be 4 connections; a demo needs more in flight.
POOL_MAX_SIZE = 20


class DatabaseURLError(ValueError):
    """A database URL the lab cannot use; the message is one line."""


@dataclass(frozen=True)
class PostgresTarget:
    """Where a PostgreSQL database is: what Django's ``DATABASES`` and psycopg both need."""

    name: str
    user: str
    password: str
    host: str
    port: int | None

    def conninfo(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``."""
        info: dict[str, Any] = {"dbname": self.name, "user": self.user, "host": self.host}
        if self.password:
            info["password"] = self.password
        if self.port is not None:
            info["port"] = self.port
        return info


def parse_url(url: str) -> PostgresTarget:
    """``postgres://user:password@host:port/dbname`` (``?host=/socket/dir`` for a unix socket)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DatabaseURLError(f"bad database URL {url!r}: {exc}") from None
    if parts.scheme not in SCHEMES:
        raise DatabaseURLError(f"bad database URL {url!r}: it must start with postgres://")
    query = parse_qs(parts.query)
    host = unquote(parts.hostname or "") or (query.get("host") or [""])[0]
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise DatabaseURLError(f"bad database URL {url!r}: it names no database (postgres://…/NAME)")
    if not host:
        raise DatabaseURLError(f"bad database URL {url!r}: it names no host")
    return PostgresTarget(
        name=name, user=unquote(parts.username or ""), password=unquote(parts.password or ""), host=host, port=port
    )


def conn_max_age() -> int | None:
    raw = os.environ.get(CONN_MAX_AGE_ENV, "").strip()
    if not raw:
        return 0
    if raw.lower() == "none":
        return None  # Django's "keep forever"
    return int(raw)


def pooled() -> bool:
    return os.environ.get(POOL_ENV, "") not in ("", "0")


def current_target() -> PostgresTarget | None:
    """The PostgreSQL database the environment names, or None for SQLite."""
    url = os.environ.get(DB_ENV, "").strip()
    return parse_url(url) if url else None


def databases(sqlite_file: Path) -> dict[str, Any]:
    """Django's ``DATABASES`` for what the environment says."""
    target = current_target()
    if target is None:
        return {"default": _sqlite(sqlite_file)}
    options: dict[str, Any] = {}
    if pooled():
        # The pool hands a connection to each request's thread and takes it back at the end
        # of the request, so the count stays at most max_size however many threads ASGI makes.
        max_size = int(os.environ.get(POOL_MAX_ENV) or POOL_MAX_SIZE)
        from psycopg_pool import ConnectionPool

        # ``check`` tests a connection before lending it: after the server went away and came
        # back, a dead one is replaced instead of failing the request it was lent to.
        options["pool"] = {
            "min_size": 1,
            "max_size": max_size,
            "timeout": 30,
            "check": ConnectionPool.check_connection,
        }
    return {
        "default": {
            # django-async-backend's wrapper is Django's own for sync code, and adds real
            # asyncio connections (async_connections) for the demos that compare them.
            "ENGINE": "django_async_backend.db.backends.postgresql",
            "NAME": target.name,
            "USER": target.user,
            "PASSWORD": target.password,
            "HOST": target.host,
            "PORT": "" if target.port is None else str(target.port),
            # Django refuses CONN_MAX_AGE with a pool: persistent connections are the pool's job.
            "CONN_MAX_AGE": 0 if pooled() else conn_max_age(),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    }


def _sqlite(sqlite_file: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": sqlite_file,
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


def is_postgres(settings_databases: dict[str, Any]) -> bool:
    return "postgresql" in settings_databases["default"]["ENGINE"]
