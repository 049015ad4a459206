"""The Locust export round trip: a run's load written as a locustfile, replayed by real Locust
(headless) against a real ``main.py serve``; its request count and status mix match the run's."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from engine.pgcluster import free_port

from .mainproc import main_env, start_main


@pytest.fixture
def served(tmp_path):
    port = free_port()
    proc = start_main(["serve", "--port", str(port)], main_env(tmp_path))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=2, trust_env=False)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.communicate(timeout=30)


def lab_run(tmp_path, *args):
    locustfile = tmp_path / "replay.py"
    proc = start_main(["run", *args, "--json", "--locust", str(locustfile)], main_env(tmp_path))
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    return json.loads(out), locustfile


def locust(locustfile, url, tmp_path, users):
    stats_file = tmp_path / "locust-stats"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "--host",
            url,
            "-u",
            str(users),
            "-r",
            str(users),
            "--json-file",
            str(stats_file),
            "--only-summary",
            "--run-time",
            "120s",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    # Locust's final stats (its CSV is written on a timer and can miss the last requests).
    stats = json.loads(stats_file.with_suffix(".json").read_text())
    return done, {r["name"]: r for r in stats}


def test_a_two_stream_scenario_replays_with_the_same_requests_per_demo(tmp_path, served):
    summary, locustfile = lab_run(tmp_path, "sync-beside-async")
    assert summary["completed"] == 40 and summary["errors"] == 0
    done, rows = locust(locustfile, served, tmp_path, users=40)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert rows["async-sleep"]["num_requests"] == 20
    assert rows["sync-sleep"]["num_requests"] == 20
    assert rows["async-sleep"]["num_failures"] == rows["sync-sleep"]["num_failures"] == 0


def test_a_failing_demo_replays_with_the_same_status_mix(tmp_path, served):
    summary, locustfile = lab_run(tmp_path, "article-async-all", "-c", "5", "-n", "15")
    assert summary["statuses"] == {"500": 15}
    _done, rows = locust(locustfile, served, tmp_path, users=5)
    assert rows["article-async-all"]["num_requests"] == 15
    assert rows["article-async-all"]["num_failures"] == 15
