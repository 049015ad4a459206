"""The terminal front end, run as a user runs it: a real process, real server, real requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_list_json_names_every_demo_with_its_path_and_defaults():
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    ids = {d["id"] for d in doc["demos"]}
    assert {"hello", "async-sleep", "sync-sleep", "blocking-sleep"} <= ids
    sleep = next(d for d in doc["demos"] if d["id"] == "async-sleep")
    assert sleep["path"] == "/demo/async-sleep/"
    assert sleep["params"]["delay"]["default"] == 0.5
    assert doc["scenarios"]


def test_run_json_on_the_qt_loop_has_every_field():
    result = cli("run", "async-sleep", "--concurrency", "10", "--param", "delay=0.3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    for key in (
        "demo",
        "django",
        "python",
        "loop",
        "requests",
        "errors",
        "statuses",
        "wall_s",
        "throughput_rps",
        "latency_ms",
        "max_in_flight",
        "distinct_server_threads",
        "loop_lag_ms",
        "blocked_ms",
        "speedup",
        "verdict",
    ):
        assert key in doc, key
    assert doc["loop"] == "qt" and doc["requests"] == 10 and doc["errors"] == 0
    assert set(doc["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert doc["wall_s"] < 1.5 and doc["max_in_flight"] == 10
    assert doc["django"].startswith("6.")


def test_run_text_summary_and_exports(tmp_path):
    trace, table = tmp_path / "t.json", tmp_path / "r.csv"
    result = cli(
        "run",
        "sync-sleep",
        "-c",
        "3",
        "-p",
        "delay=0.1",
        "--loop",
        "asyncio",
        "--trace",
        str(trace),
        "--csv",
        str(table),
    )
    assert result.returncode == 0, result.stderr
    assert "sync-sleep" in result.stdout and "timeline:" in result.stdout and "legend:" in result.stdout
    assert json.loads(trace.read_text())["traceEvents"]
    assert len(table.read_text().splitlines()) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "no-such-demo"), "unknown demo or scenario 'no-such-demo'"),
        (("run", "hello", "--concurrency", "0"), "concurrency must be between 1 and 1000"),
        (("run", "hello", "--concurrency", "10000000"), "concurrency must be between 1 and 1000"),
        (("run", "async-sleep", "--param", "delay=99"), "delay must be between 0.0 and 10.0"),
        (("run", "async-sleep", "--param", "nap=1"), "takes no parameter nap"),
        (("run", "hello", "--concurrency", "abc"), "invalid int value: 'abc'"),
        (("run", "hello", "--requests", "5", "--duration", "1"), "not allowed with argument"),
        (("run", "hello", "--rate", "10"), None),  # open loop without duration: allowed with requests default
    ],
)
def test_bad_input_is_refused_with_one_line(args, message):
    if message is None:
        result = cli(*args, "--requests", "5", "--json")
        assert result.returncode == 0, result.stderr
        return
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_a_port_in_use_is_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("run", "hello", "--port", str(port), "-n", "1")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_serve_prints_its_url_and_stops_cleanly_on_a_signal(signum):
    import re
    import signal
    import time

    import httpx

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + proc.stderr.read()
        index = httpx.get(match.group(0), trust_env=False, timeout=10)
        assert index.status_code == 200 and "async-sleep" in index.text
        foreign = httpx.get(match.group(0), headers={"Host": "example.com"}, trust_env=False, timeout=10)
        assert foreign.status_code == 400
        started = time.perf_counter()
        proc.send_signal(getattr(signal, signum))
        out, err = proc.communicate(timeout=15)
        assert time.perf_counter() - started < 5
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err
