"""PostgreSQL going away in the middle of a run: the requests that needed it fail with their
cause recorded, the lab keeps running, and once the server is back the requests succeed again
(Django opens a new connection; the pool checks its connections before lending one)."""

from __future__ import annotations

import json
import time

import pytest

from engine.pgcluster import Cluster, ClusterError

from .mainproc import main_env, start_main


@pytest.fixture
def cluster(tmp_path):
    try:
        c = Cluster(tmp_path / "outage-data")
        c.start()
    except ClusterError as exc:
        pytest.skip(f"no PostgreSQL cluster could be started here: {exc}")
    yield c
    c.remove()


def _wait_for_the_run(cluster: Cluster, timeout: float = 60) -> None:
    """The run has started when its connection sampler is connected."""
    import psycopg

    from embedded_site.dbconfig import parse_url
    from engine.pgactivity import SAMPLER_NAME

    deadline = time.monotonic() + timeout
    with psycopg.connect(**parse_url(cluster.url).conninfo(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (SAMPLER_NAME,))
            if row.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the run did not start")


@pytest.mark.parametrize("pool", [False, True], ids=["no-pool", "pool"])
def test_the_lab_records_the_outage_and_reconnects_when_postgresql_returns(cluster, tmp_path, pool):
    record_file = tmp_path / "run.json"
    args = ["run", "pg-connection-per-thread", "--rate", "20", "--duration", "10", "-p", "hold=0.02"]
    args += ["--db", cluster.url, "--record", str(record_file), "--json"] + (["--pool"] if pool else [])
    proc = start_main(args, main_env(tmp_path))
    _wait_for_the_run(cluster)
    time.sleep(1.5)  # a stretch of requests that succeed
    port = cluster.stop_keep_port()
    time.sleep(1.5)
    cluster.start_again(port)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    record = json.loads(record_file.read_text())
    clients = sorted(record["client"], key=lambda c: c["intended_ns"])
    statuses = [c["status"] for c in clients]
    causes = {s["exception_type"] for s in record["server"] if s.get("exception_type")}
    assert causes <= {"OperationalError"}, causes
    assert record["connection_errors"], "the sampler recorded the samples it could not take"
    assert summary["connections"]["samples"] > 0
    if pool:
        # The pool may hide a short outage: a request waits for a checked connection (up to the
        # pool's 30 s timeout) instead of failing, and so takes about as long as the outage.
        assert 500 in statuses or summary["latency_ms"]["max"] >= 1000, summary
    else:
        assert 500 in statuses, f"some requests failed while the server was away: {summary['statuses']}"
    failed_at = [i for i, status in enumerate(statuses) if status != 200]
    assert not failed_at or 200 in statuses[: failed_at[0]], "requests succeeded before the outage"
    after = statuses[failed_at[-1] + 1 :] if failed_at else statuses
    assert len(after) >= 10 and set(after) == {200}, f"all requests succeed once it is back: {after}"
