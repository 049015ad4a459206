"""The history: every finished or stopped run, kept in a SQLite file of its own in the data dir.

Not the demo site's database (the demos write to that one, and a reset of it must not lose
the runs).  Each run is one row written in one transaction: its settings and the figures a
list shows (target, concurrency, wall, p99, headline...) in columns, and the run file's
bytes (``engine.runfile``) in a blob, from which the run is read back whole.  The file is in
WAL mode: a process killed (even ``kill -9``) while saving loses only the run it was saving,
and the window and a ``main.py run --save`` may write at the same time.

A history that SQLite cannot read, that belongs to something else, or that a newer version
wrote (``PRAGMA user_version``) is never written over: it is renamed aside
(``history.sqlite3.corrupt-<time>`` / ``.newer-<time>``), one line says so, and a fresh one
is started.  It never grows without bound: it keeps the last ``keep_last`` runs (default
200) and at most ``max_bytes`` of run files (default 1 GB), the oldest going first.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .record import PastRun, RunRecord

HISTORY_FILE = "history.sqlite3"
SCHEMA_VERSION = 1
DEFAULT_KEEP_LAST = 200
DEFAULT_MAX_BYTES = 1024**3
_COMPANIONS = ("-wal", "-shm", "-journal")
_OWN_TABLES = frozenset({"runs", "settings"})
_BUSY_MS = 15_000  # another process saving a big run holds the write lock this long at most

_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    saved_at REAL NOT NULL,          -- wall-clock time (seconds since the epoch) it was stored
    name TEXT NOT NULL DEFAULT '',   -- the user's name for it (rename)
    note TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    loop TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    requests INTEGER NOT NULL,       -- how many were sent
    rate REAL,                       -- open loop: requests per second, NULL for a closed loop
    duration_s REAL,                 -- a timed run's planned duration, NULL for a counted one
    params TEXT NOT NULL,            -- the main parameters, as "delay=1 n=5"
    wall_s REAL NOT NULL,
    p99_ms REAL NOT NULL,
    errors INTEGER NOT NULL,
    headline TEXT NOT NULL,
    ended TEXT NOT NULL,             -- '' for a run that did what it was asked, else stopped/interrupted/incomplete
    summary TEXT NOT NULL,           -- the stats (with findings) as JSON, as that run computed them
    data BLOB NOT NULL               -- the run file (engine.runfile)
);
CREATE INDEX runs_target ON runs (target);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_COLUMNS = (
    "id, saved_at, name, note, target, title, loop, concurrency, requests, rate, duration_s, params,"
    " wall_s, p99_ms, errors, headline, ended, length(data)"
)


class HistoryError(Exception):
    """The history cannot be used or has no such run; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class HistoryEntry:
    """One stored run as a list shows it (the run itself is ``History.load(id)``)."""

    id: int
    saved_at: float
    name: str
    note: str
    target: str
    title: str
    loop: str
    concurrency: int
    requests: int
    rate: float | None
    duration_s: float | None
    params: str
    wall_s: float
    p99_ms: float
    errors: int
    headline: str
    ended: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.saved_at)),
            **{k: getattr(self, k) for k in _ENTRY_FIELDS if k not in ("id", "saved_at")},
        }

    @property
    def label(self) -> str:
        """The name the user gave it, else what ran."""
        return self.name or self.target


_ENTRY_FIELDS = tuple(HistoryEntry.__dataclass_fields__)


def history_path() -> Path:
    """The history file in the lab's data directory (``EXPLORER_DATA_DIR`` or the user's)."""
    from embedded_site.datadir import data_dir

    return data_dir() / HISTORY_FILE


def _settings_of(record: RunRecord) -> dict[str, Any]:
    streams = record.config.streams
    rates = [s.rate for s in streams if s.rate is not None]
    durations = [s.duration_s for s in streams if s.duration_s is not None]
    params = " ".join(f"{k}={v}" for k, v in streams[0].params.items()) if len(streams) == 1 else ""
    if len(streams) > 1:
        params = f"{len(streams)} streams: " + ", ".join(s.demo for s in streams)
    return {
        "concurrency": sum(s.concurrency for s in streams),
        "rate": sum(rates) if rates else None,
        "duration_s": max(durations) if durations else None,
        "params": params,
    }


def _ended(record: RunRecord) -> str:
    if record.incomplete:
        return "incomplete"
    if record.interrupted:
        return "interrupted"
    return "stopped" if record.stopped else ""


class History:
    """An open history file.  Use ``History.open()``; ``notice`` is the one line said on
    opening when a bad file had to be moved aside (else None)."""

    def __init__(self, db: sqlite3.Connection, path: Path, notice: str | None) -> None:
        self.db = db
        self.path = path
        self.notice = notice

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, *, quiet: bool = False) -> History:
        """Open (or start) the history at ``path`` (default: the data dir's).  A file that
        cannot be used is moved aside and a fresh one started; ``notice`` says so, and unless
        ``quiet`` it is printed as one line on stderr too.  Raises HistoryError only when no
        history can be had at all (the folder cannot be written)."""
        try:
            path = Path(path) if path is not None else history_path()
        except Exception as exc:  # SiteSetupError: its message is the one line
            raise HistoryError(str(exc)) from None
        notice = None
        why = _why_unusable(path)
        if why is not None:
            notice = _move_aside(path, why)
            if not quiet:
                from embedded_site.datadir import note

                note(notice)
        try:
            db = _connect(path)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the history {path}: {exc}") from None
        return cls(db, path, notice)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def add(self, record: RunRecord, data: bytes | None = None, *, saved_at: float | None = None) -> int:
        """Store a finished or stopped run (``data``: its run file's bytes, made here if not
        given) in one transaction, then apply the cap; returns its id."""
        from .runfile import dumps_run

        if data is None:
            data = dumps_run(record)
        stats = record.final_stats()
        settings = _settings_of(record)
        row = {
            "saved_at": time.time() if saved_at is None else saved_at,
            "target": record.config.target,
            "title": record.config.title,
            "loop": record.loop,
            "requests": len(record.client),
            "wall_s": stats.wall_s,
            "p99_ms": stats.latency_ms.get("p99", 0.0),
            "errors": stats.errors,
            "headline": stats.verdict,
            "ended": _ended(record),
            "summary": json.dumps(stats.as_dict(), default=str),
            "data": sqlite3.Binary(data),
            **settings,
        }
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        try:
            with _write(self.db):
                run_id = self.db.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", row).lastrowid  # noqa: S608
            self.apply_cap()
        except sqlite3.Error as exc:
            raise HistoryError(f"could not store the run in the history {self.path}: {exc}") from None
        assert run_id is not None
        return run_id

    def rename(self, run_id: int, name: str) -> None:
        self._update(run_id, "name", name.strip())

    def set_note(self, run_id: int, note: str) -> None:
        self._update(run_id, "note", note.strip())

    def _update(self, run_id: int, column: str, value: str) -> None:
        with _write(self.db):
            changed = self.db.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id)).rowcount  # noqa: S608
        if not changed:
            raise HistoryError(f"no run #{run_id} in the history")

    def delete(self, run_id: int) -> None:
        with _write(self.db):
            gone = self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount
        if not gone:
            raise HistoryError(f"no run #{run_id} in the history")
        self._reclaim()

    def delete_older_than(self, seconds: float) -> int:
        """Delete the runs stored more than ``seconds`` ago; returns how many went."""
        return self.delete_before(time.time() - seconds)

    def stored_before(self, cutoff: float) -> tuple[int, int]:
        """How many runs were stored before ``cutoff`` (seconds since the epoch), and their run
        files' bytes: what ``delete_before(cutoff)`` would remove, said before it is asked."""
        count, size = self.db.execute(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM runs WHERE saved_at < ?", (cutoff,)
        ).fetchone()
        return int(count), int(size)

    def delete_before(self, cutoff: float) -> int:
        """Delete the runs stored before ``cutoff`` (seconds since the epoch) in one transaction;
        returns how many went.  The file gives their pages back at once (a checkpoint moves the
        write-ahead log into it first), so the size shown after is the size on disk."""
        with _write(self.db):
            gone = self.db.execute("DELETE FROM runs WHERE saved_at < ?", (cutoff,)).rowcount
        if gone:
            self._reclaim()
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return gone

    # -- the cap --------------------------------------------------------------------------------

    @property
    def keep_last(self) -> int:
        return int(self._setting("keep_last", DEFAULT_KEEP_LAST))

    @property
    def max_bytes(self) -> int:
        return int(self._setting("max_bytes", DEFAULT_MAX_BYTES))

    def set_cap(self, keep_last: int | None = None, max_bytes: int | None = None) -> int:
        """Change the cap (kept in the file) and apply it; returns how many runs it removed."""
        with _write(self.db):
            for key, value in (("keep_last", keep_last), ("max_bytes", max_bytes)):
                if value is not None:
                    if value < 1:
                        raise HistoryError(f"{key.replace('_', ' ')} must be at least 1, got {value}")
                    self.db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, str(value)))
        return self.apply_cap()

    def apply_cap(self) -> int:
        """Remove the oldest runs beyond ``keep_last`` or beyond ``max_bytes`` of run files
        (the newest run is always kept); returns how many went."""
        keep, budget = self.keep_last, self.max_bytes
        ids: list[int] = []
        total = 0
        for n, (run_id, size) in enumerate(self.db.execute("SELECT id, length(data) FROM runs ORDER BY id DESC")):
            total += size
            if n >= keep or (n > 0 and total > budget):
                ids.append(run_id)
        if ids:
            with _write(self.db):
                self.db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in ids])
            self._reclaim()
        return len(ids)

    def _reclaim(self) -> None:
        """Give the deleted runs' pages back to the file system (the file was made with
        incremental auto-vacuum), so the size shown shrinks too.  The pragma frees one page per
        step of its statement, so it is stepped to the end (a bare ``execute`` frees one page)."""
        self.db.execute("PRAGMA incremental_vacuum").fetchall()

    def _setting(self, key: str, default: int) -> str | int:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    # -- reading --------------------------------------------------------------------------------

    def entries(self, target: str | None = None) -> list[HistoryEntry]:
        """Every stored run (newest first), or only those of ``target``."""
        query = f"SELECT {_COLUMNS} FROM runs"  # noqa: S608
        args: tuple[Any, ...] = ()
        if target is not None:
            query += " WHERE target = ?"
            args = (target,)
        return [HistoryEntry(*row) for row in self.db.execute(query + " ORDER BY id DESC", args)]

    def entry(self, run_id: int) -> HistoryEntry:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()  # noqa: S608
        if row is None:
            raise HistoryError(self._no_such(run_id))
        return HistoryEntry(*row)

    def targets(self) -> list[str]:
        return [t for (t,) in self.db.execute("SELECT DISTINCT target FROM runs ORDER BY target")]

    def data(self, run_id: int) -> bytes:
        """The stored run file's bytes."""
        row = self.db.execute("SELECT data FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(self._no_such(run_id))
        return bytes(row[0])

    def load(self, run_id: int) -> RunRecord:
        """The stored run, whole, marked as a past run from the history."""
        from .runfile import RunFileError, loads_run

        source = f"history #{run_id}"
        try:
            record = loads_run(self.data(run_id), source=source, kind="history")
        except RunFileError as exc:
            raise HistoryError(str(exc)) from None
        if record.past is not None:
            entry = self.entry(run_id)
            record.past = PastRun(
                kind="history",
                source=source + (f" ({entry.name})" if entry.name else ""),
                format_version=record.past.format_version,
                saved_stats=record.past.saved_stats,
                app_version=record.past.app_version,
            )
        return record

    def _no_such(self, run_id: int) -> str:
        count = self.count()
        return f"no run #{run_id} in the history" + (
            " (it is empty)" if not count else f" ({count} runs; see `history`)"
        )

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM runs").fetchone()[0]

    def size_bytes(self) -> int:
        """The history's size on disk (its file and the write-ahead log)."""
        return sum(_size(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal"))

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self.entries())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextmanager
def _write(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``: waits for another writer
    instead of failing half-way), committed whole or rolled back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    """Open the file in autocommit mode (every write goes through ``_write``), made a
    history if it is new; two processes starting one at once make it once."""
    db = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
    if db.execute("PRAGMA user_version").fetchone()[0] == 0:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes effect before the first table
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a killed process
    if db.execute("PRAGMA user_version").fetchone()[0] == 0:
        with _write(db):
            if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


def _why_unusable(path: Path) -> str | None:
    """None if ``path`` is missing, empty or our history; else what is wrong, in a few words."""
    if not path.exists():
        return None
    if path.is_dir():
        return "is a directory"
    if path.stat().st_size == 0:
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_MS / 1000)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            return "is damaged"
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if version > SCHEMA_VERSION:
            return f"was written by a newer version (history schema {version}; this one reads up to {SCHEMA_VERSION})"
        if tables - _OWN_TABLES or (tables and version != SCHEMA_VERSION) or (version and tables != _OWN_TABLES):
            return "belongs to another application" if tables - _OWN_TABLES else "is not a complete history"
    except sqlite3.DatabaseError as exc:
        return f"is damaged or not a database ({exc})"
    finally:
        db.close()
    return None


def _move_aside(path: Path, why: str) -> str:
    """Rename the history (and its WAL companions) aside; the one line that says so."""
    from embedded_site.datadir import aside_name

    tag = "newer" if "newer version" in why else "corrupt"
    target = aside_name(path, tag)
    try:
        path.rename(target)
        for suffix in _COMPANIONS:
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                companion.rename(f"{target}{suffix}")
    except OSError as exc:
        raise HistoryError(f"the history {path} {why} and cannot be moved aside ({exc.strerror or exc})") from None
    return f"the history {path} {why}: kept it as {target.name} and started a new one"


def format_size(size: int) -> str:
    """``1.7 MB``: a size as the history panel and ``history`` show it."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"
