"""The same demo served by real servers in child processes: their spans, lag and thread lanes
arrive in the lab's run record, and what the findings say about concurrency is measured
(the sync baseline under gunicorn's sync worker runs one view at a time)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import psutil
import pytest

from .mainproc import main_env, start_main

ASGI_SERVERS = ["uvicorn", "daphne", "hypercorn", "granian", "gunicorn-asgi"]


def run_json(tmp_path, *args, timeout=180):
    record = tmp_path / "run.json"
    proc = start_main(["run", *args, "--json", "--record", str(record)], main_env(tmp_path))
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err, record


def _finding(summary, finding_id):
    return next((f for f in summary["findings"] if f["id"] == finding_id), None)


@pytest.mark.parametrize("server", ASGI_SERVERS)
def test_an_asgi_child_server_runs_sync_views_on_a_thread_each_and_its_spans_arrive(tmp_path, server):
    code, out, err, record_file = run_json(tmp_path, "sync-sleep", "-c", "8", "-p", "delay=0.4", "--server", server)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["server"]["name"] == server and summary["server"]["interface"] == "asgi"
    assert summary["completed"] == 8 and summary["errors"] == 0
    assert summary["server"]["cpu_s"] > 0, "the child's CPU for the run was measured"
    record = json.loads(record_file.read_text())
    assert len(record["server"]) == 8, "every request's server side arrived from the child"
    kinds = {s["kind"] for r in record["server"] for s in r["spans"]}
    assert {"view", "blocking", "hop-wait"} <= kinds, kinds
    assert record["lag"], "the child's event-loop heartbeat streamed its lag"
    assert record["loop_thread_id"] == 1 and record["thread_names"]["1"] == "event loop (main thread)"
    views = _finding(summary, "views-at-once")
    assert views is not None and views["evidence"]["views_at_once"] >= 6, summary["verdict"]


def test_gunicorn_sync_workers_run_one_view_at_a_time_and_gthread_runs_them_together(tmp_path):
    code, out, err, record_file = run_json(
        tmp_path, "sync-sleep", "-c", "4", "-p", "delay=0.3", "--server", "gunicorn-wsgi"
    )
    assert code == 0, err
    sync = json.loads(out)
    assert sync["server"]["worker"] == "sync"
    assert len(json.loads(record_file.read_text())["server"]) == 4
    assert sync["wall_s"] >= 4 * 0.3 * 0.95, "one worker, one request at a time"
    views = _finding(sync, "views-at-once")
    assert views["evidence"]["views_at_once"] == 1, sync["verdict"]

    code, out, err, _ = run_json(
        tmp_path, "sync-sleep", "-c", "4", "-p", "delay=0.3", "--server", "gunicorn-wsgi", "--threads", "4"
    )
    assert code == 0, err
    gthread = json.loads(out)
    assert gthread["server"]["worker"] == "gthread" and gthread["server"]["threads"] == 4
    assert gthread["wall_s"] < sync["wall_s"] / 2, "four threads serve four requests together"


def test_a_child_server_that_cannot_start_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start_main(["run", "hello", "--server", "uvicorn", "--port", str(port)], main_env(tmp_path))
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.count("\n") == 1 and err.startswith("error: the uvicorn server did not start"), err


def test_a_child_server_that_dies_mid_run_makes_the_run_incomplete_with_its_cause(tmp_path):
    proc = start_main(
        ["run", "async-sleep", "--rate", "20", "-d", "6", "--server", "uvicorn", "--json"], main_env(tmp_path)
    )
    lab = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    child = None
    while child is None and time.monotonic() < deadline:
        child = next((p for p in lab.children(recursive=True) if "uvicorn" in " ".join(p.cmdline())), None)
        time.sleep(0.1)
    assert child is not None
    time.sleep(3)  # the run is under way
    os.kill(child.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    summary = json.loads(out)
    assert "the uvicorn server exited with status -9" in summary["incomplete"], summary["incomplete"]
