"""Nothing measured is lost: real signals and a real ``kill -9`` sent to a running ``main.py run``.

A first SIGINT/SIGTERM stops the run and keeps its partial record (summary marked
interrupted, exports written, exit 130/143); a second one exits at once; a signal during
the export phase leaves whole files or none; a load driver killed mid-run makes the run
incomplete (exit 1) and says so.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine.test_cli import ROOT

DRIVER_MODULE = "engine.clientproc"


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def driver_pid(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """The run's load-driver process: started once the server is up, just before the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for pid in children(proc.pid):
            try:
                if DRIVER_MODULE in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    return pid
            except OSError:
                continue
        time.sleep(0.02)
    raise AssertionError("the load driver never started")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        proc.kill()


def no_partial_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith((".partial", ".check"))]


@pytest.mark.parametrize(("signum", "status", "as_json"), [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)])
def test_a_signal_mid_run_keeps_the_partial_run_and_writes_the_exports(tmp_path, signum, status, as_json):
    proc = start(
        *("run", "async-sleep", "-c", "5", "-d", "20", "-p", "delay=0.1"),
        *(("--json",) if as_json else ()),
        *("--csv", "r.csv", "--trace", "t.json", "--record", "rec.json"),
        cwd=tmp_path,
    )
    driver_pid(proc)
    time.sleep(2.0)  # ~20 requests a second: a good number have finished
    signalled = time.perf_counter()
    proc.send_signal(signum)
    out, err = finish(proc)
    assert time.perf_counter() - signalled < 20, "a stopped run must end promptly"
    assert proc.returncode == status, err
    assert "Traceback" not in err
    record = json.loads((tmp_path / "rec.json").read_text())
    finished = [c for c in record["client"] if c["done_ns"] and not c["error"]]
    assert len(finished) >= 5
    assert record["interrupted"] is True and record["stopped"] is True
    assert any(signal.Signals(signum).name in note for note in record["notes"])
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert len(rows) == len(record["client"])
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    no_partial_files(tmp_path)
    if as_json:
        doc = json.loads(out)
        assert doc["interrupted"] is True and doc["stopped"] is True
        assert doc["completed"] >= len(finished) and doc["planned_requests"] is None
    else:
        assert f"INTERRUPTED ({signal.Signals(signum).name})" in out
        assert "timeline:" in out


def test_a_second_signal_exits_at_once(tmp_path):
    # Three-second sync views: the orderly stop after the first signal waits for them, so
    # the second one arrives while it does and must cut it short.
    proc = start(
        *("run", "sync-sleep", "-c", "3", "-d", "30", "-p", "delay=3", "--csv", "r.csv"),
        cwd=tmp_path,
    )
    driver = driver_pid(proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    second = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc)
    assert time.perf_counter() - second < 3
    assert proc.returncode == 130, err
    assert "interrupted again (SIGINT): exiting at once" in err
    assert "Traceback" not in err
    assert out == "" and not (tmp_path / "r.csv").exists()
    no_partial_files(tmp_path)
    deadline = time.monotonic() + 15
    while alive(driver) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(driver), "the load driver outlived the app"


def test_a_signal_while_exporting_leaves_whole_files_or_none(tmp_path):
    names = ("t.json", "r.csv", "rec.json")
    proc = start(
        *("run", "hello", "-c", "10", "-n", "1500", "--loop", "asyncio", "--json"),
        *("--trace", names[0], "--csv", names[1], "--record", names[2]),
        cwd=tmp_path,
    )
    seen = None
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        partial = [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        if partial:
            seen = partial
            proc.send_signal(signal.SIGTERM)
            break
        time.sleep(0.001)
    out, err = finish(proc)
    assert seen, "the exports were never seen being written"
    assert "Traceback" not in err
    assert json.loads(out)["completed"] == 1500  # the summary came first, whole
    no_partial_files(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    if proc.returncode == 143:
        match = re.search(r"interrupted while writing exports: not written: (.*)", err)
        assert match, err
        assert not any(name in written for name in names if name in match.group(1))
    else:  # the signal landed after the last rename: every file is whole
        assert proc.returncode == 0, err
        assert written == sorted(names)
    for name in written:
        path = tmp_path / name
        if name.endswith(".json"):
            json.loads(path.read_text())
        else:
            assert len(path.read_text().splitlines()) == 1501


def test_a_dead_load_driver_makes_the_run_incomplete(tmp_path):
    proc = start("run", "hello", "--rate", "40", "-n", "200", "--json", "--csv", "r.csv", cwd=tmp_path)
    driver = driver_pid(proc)
    time.sleep(1.5)
    os.kill(driver, signal.SIGKILL)
    out, err = finish(proc)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    doc = json.loads(out)
    match = re.fullmatch(r"the load driver died \(signal 9, SIGKILL\) after (\d+) of 200 requests", doc["incomplete"])
    assert match, doc["incomplete"]
    assert 1 <= int(match.group(1)) < 200
    # The verdict leads with it (its first sentence), whatever else it says about what finished.
    first_sentence = doc["verdict"].split(". ")[0]
    assert "incomplete" in first_sentence.lower() and doc["incomplete"] in first_sentence, doc["verdict"]
    assert doc["completed"] < 200 and doc["planned_requests"] == 200
    assert any("load driver died" in note for note in doc["notes"])
    assert len((tmp_path / "r.csv").read_text().splitlines()) == doc["requests"] + 1


def test_a_dead_load_driver_is_said_first_in_the_text_summary(tmp_path):
    proc = start("run", "hello", "--rate", "40", "-d", "5", "--loop", "asyncio", cwd=tmp_path)
    driver = driver_pid(proc)
    time.sleep(1.0)
    os.kill(driver, signal.SIGKILL)
    out, err = finish(proc)
    assert proc.returncode == 1, err
    head = out.splitlines()[:4]
    assert any(line.strip().startswith("INCOMPLETE: the load driver died (signal 9, SIGKILL)") for line in head), out
    assert "/200 finished" in out  # 40 req/s for 5 s were planned
    assert "incomplete: the load driver died" in out.lower()


@pytest.mark.parametrize("library", ["libshiboken6", "QtCore"])
def test_a_signal_while_starting_up_is_one_line(tmp_path, library):
    # Sent the moment Qt's libraries are mapped: a signal raised as an exception inside
    # PySide6's own initialisation would be a fatal error (abort), not a clean stop.
    proc = start("run", "hello", "-n", "5", "--csv", "r.csv", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if library in Path(f"/proc/{proc.pid}/maps").read_text():
                break
        except OSError:
            pass
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    out, err = finish(proc)
    assert "Fatal" not in err and "Traceback" not in err, err
    assert proc.returncode == 143, err
    if out:  # the signal came after the run had started: it was kept, as mid-run
        assert "INTERRUPTED (SIGTERM)" in out
    else:
        assert len(err.strip().splitlines()) == 1 and "interrupted (SIGTERM)" in err
        assert not (tmp_path / "r.csv").exists()
    no_partial_files(tmp_path)
