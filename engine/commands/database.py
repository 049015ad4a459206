"""``--db``, ``--pool``, ``--conn-max-age``: which database the demo site runs on.

SQLite (the default) needs nothing.  ``--db postgres://…`` points the site at a server;
``--db postgres`` starts the lab's own private cluster (``engine.pgcluster``) and stops it
when the lab exits.  Everything is decided before Django is set up, because the site's
settings read the database from the environment (``embedded_site.dbconfig``); a URL that
cannot be parsed, a server that does not answer or a cluster that cannot start is one line
and exit status 2, before any demo runs.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
from typing import Any

from embedded_site.datadir import SiteSetupError, data_dir
from embedded_site.dbconfig import (
    CONN_MAX_AGE_ENV,
    DB_ENV,
    POOL_ENV,
    POOL_MAX_ENV,
    DatabaseURLError,
    PostgresTarget,
    parse_url,
)

SQLITE = "sqlite"
PRIVATE = "postgres"
# The cluster whose stop is registered at exit, so one process starts at most one.
_cluster: Any = None


def add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("database")
    group.add_argument(
        "--db",
        default=SQLITE,
        metavar="sqlite|postgres|postgres://…",
        help="the demo site's database: SQLite in the data directory (default), the lab's own "
        "PostgreSQL cluster (postgres), or a PostgreSQL server's URL",
    )
    group.add_argument("--pool", action="store_true", help="PostgreSQL: Django's psycopg connection pool")
    group.add_argument("--pool-size", type=int, metavar="N", help="PostgreSQL: the pool's max_size (default 20)")
    group.add_argument(
        "--conn-max-age", type=float, metavar="S", help="PostgreSQL: CONN_MAX_AGE in seconds (default 0)"
    )
    group.add_argument(
        "--pg-max-connections",
        type=int,
        metavar="N",
        help="the private cluster's max_connections (default 100), to run past it on purpose",
    )


def configure(args: argparse.Namespace) -> None:
    """Set the environment the site's settings read; raises SiteSetupError (one line)."""
    db = getattr(args, "db", SQLITE) or SQLITE
    pool, age, size = (
        getattr(args, "pool", False),
        getattr(args, "conn_max_age", None),
        getattr(args, "pool_size", None),
    )
    max_conn = getattr(args, "pg_max_connections", None)
    if db == SQLITE:
        used = [
            flag
            for flag, value in (
                ("--pool", pool),
                ("--conn-max-age", age),
                ("--pool-size", size),
                ("--pg-max-connections", max_conn),
            )
            if value
        ]
        if used:
            raise SiteSetupError(f"{used[0]} needs a PostgreSQL database (--db postgres or --db postgres://…)")
        return
    if pool and age:
        raise SiteSetupError("--pool and --conn-max-age exclude each other: Django refuses CONN_MAX_AGE with a pool")
    if age is not None and (not math.isfinite(age) or age < 0 or age > 86_400):
        raise SiteSetupError(f"--conn-max-age must be between 0 and 86400 seconds, got {age:g}")
    if size is not None and not (1 <= size <= 1000):
        raise SiteSetupError(f"--pool-size must be between 1 and 1000, got {size}")
    if max_conn is not None and not (3 <= max_conn <= 10_000):
        raise SiteSetupError(f"--pg-max-connections must be between 3 and 10000, got {max_conn}")
    if db == PRIVATE:
        url = start_private_cluster(max_conn or 100)
    else:
        if max_conn is not None:
            raise SiteSetupError("--pg-max-connections is for the lab's own cluster (--db postgres)")
        url = db
    use_database(url, pool=pool, conn_max_age=age, pool_size=size)


def use_database(
    url: str, *, pool: bool = False, conn_max_age: float | None = None, pool_size: int | None = None
) -> None:
    """Check ``url`` answers and point the site's settings at it (before ``setup_django``)."""
    try:
        target = parse_url(url)
    except DatabaseURLError as exc:
        raise SiteSetupError(str(exc)) from None
    check_reachable(target)
    os.environ[DB_ENV] = url
    os.environ[POOL_ENV] = "1" if pool else "0"
    os.environ[CONN_MAX_AGE_ENV] = "" if conn_max_age is None else str(int(conn_max_age))
    os.environ[POOL_MAX_ENV] = "" if pool_size is None else str(pool_size)


def check_reachable(target: PostgresTarget) -> None:
    import psycopg

    try:
        psycopg.connect(**target.conninfo(), connect_timeout=5).close()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise SiteSetupError(f"cannot connect to PostgreSQL at {target.host}:{target.port or 5432}: {first}") from None


def start_private_cluster(max_connections: int = 100) -> str:
    """Start the lab's own cluster (once per process) and stop it when the process exits."""
    global _cluster
    from engine.pgcluster import Cluster, ClusterError

    if _cluster is not None:
        return _cluster.url
    try:
        cluster = Cluster(data_dir(), max_connections=max_connections)
        url = cluster.start()
    except ClusterError as exc:
        raise SiteSetupError(str(exc)) from None
    _cluster = cluster
    atexit.register(cluster.stop)
    return url


def private_cluster() -> Any:
    """The cluster this process started, or None."""
    return _cluster
