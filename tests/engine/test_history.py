"""The history: runs stored whole in their own SQLite file, a bad file moved aside, a cap."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine.history import DEFAULT_KEEP_LAST, History, HistoryError
from engine.runfile import dumps_run
from engine.stats import compute
from tests.engine.mainproc import ROOT


@pytest.fixture(scope="module")
def record(lab_runner):
    return lab_runner.run("sync-sleep", concurrency=4, requests=8, params={"delay": 0.05})


@pytest.fixture(scope="module")
def other(lab_runner):
    return lab_runner.run("async-sleep", concurrency=5, requests=10, params={"delay": 0.05})


def test_a_stored_run_loads_back_whole_and_is_listed(record, other, tmp_path):
    with History.open(tmp_path / "h.sqlite3") as history:
        first = history.add(record)
        second = history.add(other)
        assert [e.id for e in history.entries()] == [second, first]
        entry = history.entry(first)
        st = compute(record)
        assert (entry.target, entry.concurrency, entry.requests, entry.params) == ("sync-sleep", 4, 8, "delay=0.05")
        assert entry.p99_ms == st.latency_ms["p99"] and entry.wall_s == st.wall_s and entry.headline == st.verdict
        assert entry.size_bytes == len(dumps_run(record))
        assert [e.id for e in history.entries("async-sleep")] == [second]
        assert history.targets() == ["async-sleep", "sync-sleep"]
        loaded = history.load(first)
        assert compute(loaded).as_dict() == st.as_dict()
        assert loaded.past.kind == "history" and loaded.past.source == f"history #{first}"
    with History.open(tmp_path / "h.sqlite3") as again:  # and it is there next time
        assert again.count() == 2 and again.notice is None


def test_rename_note_delete(record, tmp_path):
    with History.open(tmp_path / "h.sqlite3") as history:
        run_id = history.add(record)
        history.rename(run_id, "  before the fix ")
        history.set_note(run_id, "20 threads")
        entry = history.entry(run_id)
        assert (entry.name, entry.note, entry.label) == ("before the fix", "20 threads", "before the fix")
        assert "before the fix" in history.load(run_id).past.source
        history.delete(run_id)
        assert history.count() == 0
        with pytest.raises(HistoryError, match=f"no run #{run_id} in the history"):
            history.load(run_id)
        with pytest.raises(HistoryError):
            history.delete(run_id)


def test_the_cap_keeps_the_newest_runs_and_the_size_shrinks(record, tmp_path):
    data = dumps_run(record)
    with History.open(tmp_path / "h.sqlite3") as history:
        assert history.keep_last == DEFAULT_KEEP_LAST
        ids = [history.add(record, data) for _ in range(12)]
        big = history.size_bytes()
        assert history.set_cap(keep_last=5) == 7
        assert [e.id for e in history.entries()] == ids[:-6:-1]
        history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert history.size_bytes() < big
        assert history.set_cap(max_bytes=len(data) * 2 + 1) == 3
        assert history.count() == 2
        assert history.set_cap(max_bytes=1) == 1 and history.count() == 1  # the newest always stays
        with pytest.raises(HistoryError, match="at least 1"):
            history.set_cap(keep_last=0)
    with History.open(tmp_path / "h.sqlite3") as again:
        assert again.keep_last == 5 and again.max_bytes == 1


def test_delete_older_than(record, tmp_path):
    with History.open(tmp_path / "h.sqlite3") as history:
        old = history.add(record, saved_at=time.time() - 40 * 86400)
        new = history.add(record)
        assert history.delete_older_than(30 * 86400) == 1
        assert [e.id for e in history.entries()] == [new] and old != new


def _aside(tmp_path, tag):
    """The files moved aside (without their -wal/-shm companions, which move with them)."""
    names = [p.name for p in tmp_path.iterdir() if p.name.startswith(f"h.sqlite3.{tag}-")]
    return sorted(n for n in names if not n.endswith(("-wal", "-shm")))


def test_a_corrupt_history_is_moved_aside_and_a_fresh_one_started(record, tmp_path, capsys):
    path = tmp_path / "h.sqlite3"
    garbage = b"this is not a database at all" * 200
    path.write_bytes(garbage)
    with History.open(path) as history:
        assert history.count() == 0
        assert "kept it as h.sqlite3.corrupt-" in history.notice and "\n" not in history.notice
        history.add(record)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "started a new one" in err
    (moved,) = _aside(tmp_path, "corrupt")
    assert (tmp_path / moved).read_bytes() == garbage  # never overwritten


def test_a_damaged_page_is_found(record, tmp_path):
    path = tmp_path / "h.sqlite3"
    with History.open(path) as history:
        for _ in range(3):
            history.add(record)
        history.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2 : page * 3] = b"\xa5" * page  # a b-tree page of garbage
    path.write_bytes(bytes(data))
    with History.open(path, quiet=True) as history:
        assert history.count() == 0 and "is damaged" in history.notice
    assert _aside(tmp_path, "corrupt")


def test_a_newer_history_is_moved_aside_not_overwritten(record, tmp_path):
    path = tmp_path / "h.sqlite3"
    with History.open(path) as history:
        history.add(record)
        history.db.execute("PRAGMA user_version = 99")
    with History.open(path, quiet=True) as history:
        assert history.count() == 0
        assert "newer version (history schema 99" in history.notice
    (moved,) = _aside(tmp_path, "newer")
    db = sqlite3.connect(tmp_path / moved)
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)  # the runs are all still there
    assert db.execute("PRAGMA user_version").fetchone() == (99,)
    db.close()


def test_a_foreign_database_is_moved_aside(tmp_path):
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    with History.open(path, quiet=True) as history:
        assert "belongs to another application" in history.notice
    assert _aside(tmp_path, "corrupt")


_SAVER = r"""
import sys
from engine.history import History
from engine.runfile import loads_run

data = open(sys.argv[2], "rb").read()
record = loads_run(data)
with History.open(sys.argv[1]) as history:
    for n in range(1000):
        print("begin", n, flush=True)
        run_id = history.add(record, data)
        print("end", n, run_id, flush=True)
"""


@pytest.fixture(scope="module")
def large(lab_runner, tmp_path_factory):
    """A large real record's run file: 5,000 requests."""
    record = lab_runner.run("hello", concurrency=50, requests=5000)
    path = tmp_path_factory.mktemp("large") / "large.run.json.gz"
    path.write_bytes(dumps_run(record))
    return record, path


@pytest.mark.parametrize("delay_s", [0.0, 0.003, 0.01])
def test_kill_9_while_saving_loses_only_the_run_being_saved(large, tmp_path, delay_s):
    record, data_path = large
    path = tmp_path / "h.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(path), str(data_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    saved = []
    for line in child.stdout:
        words = line.split()
        if words[0] == "end":
            saved.append(int(words[2]))
        elif int(words[1]) == 4:  # the fifth save has begun: kill it in its transaction
            time.sleep(delay_s)
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(saved) == 4
    with History.open(path) as history:
        assert history.notice is None
        ids = [e.id for e in history.entries()]
        # Every save that ended is there; the one killed (and any that ended in the moment
        # before the signal landed) is whole or absent: each run below loads whole.
        assert set(saved) <= set(ids) and ids == sorted(ids, reverse=True)
        assert history.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for run_id in ids:
            assert len(history.load(run_id).client) == len(record.client)
        history.add(record)  # and it takes new runs
