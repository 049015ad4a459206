"""The PostgreSQL demos against a real cluster: the lab's own, started the way ``--db postgres``
starts it, and every claim checked from a real ``main.py run --db …`` of each demo, with the
database options its lesson is about.  When no cluster can start here, every test says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from embedded_site.bootstrap import setup_django
from engine.findings.claims import check_all
from engine.plan import catalogue

from .mainproc import ROOT

setup_django()
PG_DEMOS = sorted(d.id for d in catalogue().values() if d.extra.get("needs") == "postgresql")


def run_main(tmp_path: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def summary(done: subprocess.CompletedProcess[str]) -> SimpleNamespace:
    assert done.stdout.strip(), done.stderr
    doc = json.loads(done.stdout)
    return SimpleNamespace(**doc)


def _db_for(options: list[str], url: str) -> list[str]:
    # The too-many-clients demo needs a small max_connections: the lab's own cluster, its own.
    return ["--db", "postgres"] if "--pg-max-connections" in options else ["--db", url]


@pytest.mark.parametrize("demo_id", PG_DEMOS)
def test_each_postgres_demo_measures_what_its_lesson_says(pg_url, tmp_path, demo_id):
    demo = catalogue()[demo_id]
    options = list(demo.extra.get("run_options", []))
    concurrency = str(demo.extra.get("concurrency", 10))
    done = run_main(tmp_path, "run", demo_id, "-c", concurrency, "--json", *_db_for(options, pg_url), *options)
    stats = summary(done)
    assert stats.database["vendor"] == "postgresql"
    assert stats.connections["samples"] > 0, "pg_stat_activity was sampled during the run"
    failed = [o.line for o in check_all(demo.checks, stats) if not o.ok]
    assert not failed, f"{demo_id}: {stats.verdict}\n" + "\n".join(failed)


def test_the_pool_fixes_too_many_clients(tmp_path):
    done = run_main(
        tmp_path,
        "run",
        "pg-too-many-clients",
        "-c",
        "20",
        "--json",
        "--db",
        "postgres",
        "--pg-max-connections",
        "10",
        "--pool",
        "--pool-size",
        "5",
    )
    stats = summary(done)
    assert stats.errors == 0, stats.verdict
    assert stats.connections["peak"] <= 5
    assert stats.database["max_connections"] == 10


def test_postgres_demos_on_sqlite_say_they_need_postgresql(lab_runner):
    response = lab_runner.fetch("/demo/pg-pool/")
    assert response.status_code == 503
    assert "needs PostgreSQL" in response.text


def test_a_database_that_does_not_answer_is_one_line_and_exit_2(tmp_path):
    from engine.pgcluster import free_port

    done = run_main(tmp_path, "run", "hello", "--db", f"postgres://nobody:x@127.0.0.1:{free_port()}/none")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: cannot connect to PostgreSQL"), done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--db", "mysql://x/y"], "must start with postgres://"),
        (["--db", "postgres://127.0.0.1"], "names no database"),
        (["--pool"], "--pool needs a PostgreSQL database"),
        (["--db", "postgres://a@127.0.0.1/x", "--pool", "--conn-max-age", "5"], "exclude each other"),
    ],
)
def test_bad_database_options_are_one_line_and_exit_2(tmp_path, args, says):
    done = run_main(tmp_path, "run", "hello", *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_a_child_servers_connections_are_counted_by_postgresql_as_a_lower_bound(pg_url, tmp_path):
    done = run_main(
        tmp_path,
        "run",
        "pg-connection-per-thread",
        "-c",
        "8",
        "--json",
        "--db",
        pg_url,
        "--server",
        "gunicorn-wsgi",
        "--threads",
        "8",
    )
    stats = summary(done)
    assert stats.server["name"] == "gunicorn-wsgi" and stats.database["vendor"] == "postgresql"
    finding = next(f for f in stats.findings if f["id"] == "connections")
    assert finding["sentence"].startswith("at least "), finding["sentence"]
    assert finding["evidence"]["opened_at_least"] >= 6, "the samples saw the worker threads' connections"
