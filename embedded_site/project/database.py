"""Which database a project's runs will touch, and a copy of it for SQLite.

The lab never migrates or seeds a person's database.  Before the first run it says which
database the settings name (engine and name) and whether migrations are missing from it;
with ``db_copy`` a SQLite file is copied into the lab's data dir and the settings point at
the copy, so runs that write leave the project's own file as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from . import Project, ProjectError

SQLITE = "django.db.backends.sqlite3"


def copies_dir(project: Project) -> Path:
    from ..datadir import data_dir

    tag = hashlib.sha256(str(project.root).encode()).hexdigest()[:12]
    return data_dir() / "project-db" / f"{project.name}-{tag}"


def point_at_copy(settings: Any, project: Project) -> None:
    """Copy the default SQLite database into the data dir (fresh for each start) and use it."""
    db = dict(settings.DATABASES.get("default", {}))
    if db.get("ENGINE") != SQLITE:
        raise ProjectError(
            f"--db-copy works for SQLite only; this project's database is {db.get('ENGINE')} {db.get('NAME')!r}"
        )
    source = Path(str(db.get("NAME", "")))
    if str(source) in ("", ":memory:") or "mode=memory" in str(source):
        raise ProjectError("--db-copy needs a SQLite file; this project's database is in memory")
    target_dir = copies_dir(project)
    target = target_dir / source.name
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            # sqlite3's backup copies a consistent state even if the project is running.
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            target.unlink(missing_ok=True)
    except (OSError, sqlite3.Error) as exc:
        raise ProjectError(f"cannot copy the database {str(source)!r} to {str(target)!r}: {exc}") from None
    db["NAME"] = str(target)
    settings.DATABASES = {**settings.DATABASES, "default": db}


def describe(project: Project) -> str:
    """One line: the database runs will use, and what the lab will not do to it."""
    from django.conf import settings

    db = settings.DATABASES.get("default", {})
    engine = str(db.get("ENGINE", "?")).rsplit(".", 1)[-1]
    name = db.get("NAME", "")
    if project.db_copy:
        whose = "a copy of the project's database, made at start-up"
    elif engine == "sqlite3":
        whose = "the project's own database (--db-copy runs against a copy)"
    else:
        whose = "the project's own database"
    line = f"database: {engine} {str(name)!r}, {whose}"
    pending = unapplied_migrations()
    if pending:
        line += (
            f"; {pending} migration{'s are' if pending != 1 else ' is'} not applied to it and the lab does not "
            "migrate it (run manage.py migrate yourself)"
        )
    return line


def unapplied_migrations() -> int:
    """How many of the project's migrations its database lacks (0 when it cannot be read)."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except Exception:  # an unreachable server is reported by the runs themselves
        return 0
    finally:
        connection.close()
