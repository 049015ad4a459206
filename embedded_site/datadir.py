"""The lab's data directory: its place, its secret key, its lock, and the SQLite file in it.

Everything here runs before Django can report anything (settings.py calls it while Django
imports the settings), so a directory that cannot be used raises ``SiteSetupError`` with
a one-line message, which the front ends print instead of a traceback.  A file the lab
cannot use (a corrupt or foreign database, a binary, empty or directory ``secret_key``) is
never deleted: it is renamed aside with a timestamp, one line on stderr says so, and a
fresh one is made.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATA_DIR_ENV = "EXPLORER_DATA_DIR"
APP_DIR_NAME = "django-async-explorer"
SECRET_KEY_FILE = "secret_key"
DATABASE_FILE = "explorer.sqlite3"
LOCK_FILE = "explorer.lock"
# SQLite keeps committed data of a WAL database in these until a checkpoint: they move with it.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# The lab's tables are its demos app's ("demos_...", the first migration makes these three) and
# Django's bookkeeping; any other table means the file belongs to something else.
OWN_PREFIX = "demos_"
FIRST_TABLES = frozenset({"demos_author", "demos_book", "demos_review"})
DJANGO_TABLES = frozenset({"django_migrations", "sqlite_sequence"})
# The tables of the contrib apps the site installs: the lab's own only in a database the lab migrated.
CONTRIB_TABLES = frozenset(
    {
        "auth_group",
        "auth_group_permissions",
        "auth_permission",
        "auth_user",
        "auth_user_groups",
        "auth_user_user_permissions",
        "django_content_type",
        "django_session",
    }
)
_SQLITE_NOT_OURS = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class SiteSetupError(Exception):
    """The site cannot start for a reason the user can fix; the message is one line."""


def note(message: str) -> None:
    """One line on stderr about something the lab fixed on its own."""
    print(f"note: {message}", file=sys.stderr, flush=True)


def _unusable(directory: Path, why: object) -> SiteSetupError:
    return SiteSetupError(
        f"cannot use the data directory {directory} ({why}); set {DATA_DIR_ENV} to a writable directory"
    )


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def data_dir() -> Path:
    """The data directory (``EXPLORER_DATA_DIR`` or the user's data dir), made if missing and
    checked writable; raises SiteSetupError naming it otherwise."""
    from platformdirs import user_data_dir

    directory = Path(os.environ.get(DATA_DIR_ENV) or user_data_dir(APP_DIR_NAME))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _unusable(directory, "a file is in the way") from None
    except OSError as exc:
        raise _unusable(directory, _reason(exc)) from None
    if not directory.is_dir():
        raise _unusable(directory, "not a directory")
    probe = directory / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _unusable(directory, _reason(exc)) from None
    return directory


def aside_name(path: Path, tag: str) -> Path:
    """``path`` with ``.<tag>-<UTC timestamp>`` appended, numbered if that name is taken."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    candidate = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
    return candidate


def move_aside(path: Path, tag: str) -> Path | None:
    """Rename ``path`` next to itself (see ``aside_name``); None if it is already gone
    (another instance moved it first)."""
    target = aside_name(path, tag)
    try:
        path.rename(target)
    except FileNotFoundError:
        return None
    return target


def _valid_key(raw: bytes) -> str | None:
    try:
        key = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if not key or not key.isprintable() or any(c.isspace() for c in key):
        return None
    return key


def _why_bad_key(key_file: Path) -> str:
    if key_file.is_dir():
        return "is a directory"
    raw = key_file.read_bytes()
    return "is empty" if not raw.strip() else "is not a text key"


def secret_key(directory: Path) -> str:
    """The installation's secret key, made once; a bad one is renamed aside and replaced.

    A new key is written to a temporary name and hard-linked into place, which fails if
    another instance got there first: then that instance's key is the one read back.
    """
    key_file = directory / SECRET_KEY_FILE
    try:
        for _ in range(5):
            if key_file.is_file():
                key = _valid_key(key_file.read_bytes())
                if key is not None:
                    return key
            if key_file.exists() or key_file.is_symlink():
                why = _why_bad_key(key_file) if key_file.exists() else "is a broken link"
                moved = move_aside(key_file, "bad")
                if moved is not None:
                    note(f"{key_file} {why}: kept it as {moved.name} and made a new key")
                continue
            if _write_new_key(key_file):
                return key_file.read_text().strip()
    except OSError as exc:
        raise SiteSetupError(f"cannot read or write the secret key {key_file} ({_reason(exc)})") from None
    raise SiteSetupError(f"cannot settle the secret key {key_file}: it keeps changing under the lab")


def _write_new_key(key_file: Path) -> bool:
    """Create ``key_file`` with a fresh key; False if it appeared meanwhile."""
    temp = key_file.with_name(f".{key_file.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_urlsafe(50).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, key_file)
        return True
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def exclusive(directory: Path) -> Iterator[None]:
    """Hold the data directory's lock file: one instance at a time migrates and seeds."""
    lock_path = directory / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise _unusable(directory, f"cannot open {lock_path.name}: {_reason(exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def why_not_ours(db_file: Path) -> str | None:
    """None if ``db_file`` is missing, empty or the lab's own database (maybe not yet fully
    migrated); otherwise what is wrong with it, in a few words."""
    if not db_file.exists():
        return None
    if db_file.is_dir():
        return "is a directory"
    if db_file.stat().st_size == 0:
        return None
    try:
        with _read_only(db_file) as db:
            if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return "is damaged"
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            ours = {t for t in tables if t.startswith(OWN_PREFIX)}
            migrated = "django_migrations" in tables and bool(
                db.execute("SELECT 1 FROM django_migrations WHERE app = 'demos'").fetchone()
            )
            foreign = tables - ours - DJANGO_TABLES - (CONTRIB_TABLES if migrated else frozenset())
            if foreign:
                return f"belongs to another application (table {sorted(foreign)[0]})"
            if ours and not migrated:
                return f"belongs to another application (table {sorted(ours)[0]} not made by the lab)"
            if migrated and not FIRST_TABLES <= ours:
                return "is missing the lab's tables"
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in _SQLITE_NOT_OURS:
            return "is not a readable SQLite database"
        if code == sqlite3.SQLITE_ERROR:  # the queries above are fixed: their tables differ from Django's
            return f"belongs to another application ({exc})"
        raise SiteSetupError(f"cannot open the database {db_file} ({exc})") from None
    return None


@contextmanager
def _read_only(db_file: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
    try:
        yield db
    finally:
        db.close()


def set_aside_unusable_database(db_file: Path) -> None:
    """Rename a database the lab cannot use (and its WAL files) aside, so a fresh one is built."""
    why = why_not_ours(db_file)
    if why is None:
        return
    moved = move_aside(db_file, "corrupt")
    if moved is None:
        return
    for suffix in _SQLITE_COMPANIONS:
        companion = db_file.with_name(db_file.name + suffix)
        if companion.exists():
            companion.rename(moved.with_name(moved.name + suffix))
    note(f"the database {db_file} {why}: kept it as {moved.name} and built a fresh one")
