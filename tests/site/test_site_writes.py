"""The write demos leave the tables exactly as they found them: after many requests, after
requests whose client gave up half-way (the server cancels the view), and under heavy load
without a single ``database is locked``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.plan import make_config

ROOT = Path(__file__).resolve().parents[2]
WRITE_DEMOS = ("orm-async-write", "orm-transaction")


def _tables() -> tuple:
    """Every row of the demo tables, as values: any leftover or changed row shows."""
    from embedded_site.demos.models import Author, Book, Review

    return (
        list(Author.objects.order_by("id").values_list("id", "name", "country")),
        list(
            Book.objects.order_by("id").values_list("id", "title", "author_id", "year", "pages", "price", "copies_sold")
        ),
        Review.objects.count(),
    )


def _settled(before: tuple, within_s: float = 30.0) -> tuple:
    """The tables once the server has finished the abandoned views (they run on after the
    client left, until their cleanup): the first state equal to ``before``, or the last seen."""
    deadline = time.perf_counter_ns() + int(within_s * 1e9)
    while True:
        now = _tables()
        if now == before or time.perf_counter_ns() > deadline:
            return now
        time.sleep(0.1)


@pytest.mark.parametrize("demo", WRITE_DEMOS)
def test_write_demo_leaves_every_row_as_it_was(lab_runner, demo: str) -> None:
    before = _tables()
    record = lab_runner.run(demo, concurrency=8, requests=41)  # an odd number: a kept swap would show
    assert [c.status for c in record.client] == [200] * 41, {s.exception for s in record.server}
    assert _tables() == before


@pytest.mark.parametrize("demo", WRITE_DEMOS)
def test_write_demo_cleans_up_when_the_client_gives_up_mid_request(lab_runner, demo: str) -> None:
    before = _tables()
    config = make_config(demo, concurrency=20, requests=150)
    cancelled = 0
    # Client timeouts of a few milliseconds: the client closes its connection while the view
    # is between its statements, and Django cancels the view there (at whichever await).
    for timeout_s in (0.002, 0.004, 0.008, 0.016):
        stream = replace(config.streams[0], client_timeout_s=timeout_s)
        record = lab_runner.loop.run_until_complete(lab_runner.lab.run(replace(config, streams=(stream,))))
        cancelled += sum(1 for s in record.server if s.disconnected)
    assert cancelled >= 50, "the server hardly ever saw a client leave: the test did not test cancellation"
    assert _settled(before) == before


def test_two_hundred_concurrent_writers_never_see_database_locked(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EXPLORER_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run", "orm-async-write", "-c", "200", "-n", "1000", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["statuses"] == {"200": 1000}, doc["exceptions"]
    assert doc["errors"] == 0 and not doc["exceptions"]
    with sqlite3.connect(tmp_path / "explorer.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM demos_book").fetchone() == (2000,)


def _leftover_books(db_file: Path) -> int:
    with sqlite3.connect(db_file) as db:
        query = "SELECT COUNT(*) FROM demos_book WHERE title LIKE 'Draft %' OR title LIKE 'Published %'"
        return db.execute(query).fetchone()[0]


def test_rows_of_writes_cut_short_by_kill_9_are_gone_at_the_next_start(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(tmp_path)}
    db_file = tmp_path / "explorer.sqlite3"
    command = [sys.executable, str(ROOT / "main.py"), "run", "orm-async-write", "-c", "50", "-n", "100000"]
    left = 0
    for _attempt in range(3):  # each kill lands wherever the writes are; one must leave a row
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            deadline = time.perf_counter_ns() + 60 * 10**9
            while time.perf_counter_ns() < deadline and not (db_file.exists() and _busy(db_file)):
                time.sleep(0.05)
            time.sleep(0.5)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the lab and its load driver, mid-write
            proc.wait(timeout=30)
        left = _leftover_books(db_file)
        if left:
            break
    assert left, "no kill landed between a write demo's INSERT and DELETE"

    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "run", "hello", "-n", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert _leftover_books(db_file) == 0
    with sqlite3.connect(db_file) as db:
        assert db.execute("SELECT COUNT(*) FROM demos_book").fetchone() == (2000,)


def _busy(db_file: Path) -> bool:
    """True once the write demo has rows in flight."""
    try:
        return _leftover_books(db_file) > 0
    except sqlite3.OperationalError:  # not migrated yet
        return False
