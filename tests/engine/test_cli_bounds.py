"""Bad runs and bad export paths are refused in one line, before a server starts; ``-`` is stdout.

Every case runs ``main.py`` as a user does; a refusal must come back fast (no server, no
run), with exit status 2, nothing on stdout and exactly one line on stderr.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import time

import pytest

from tests.engine.test_cli import cli


def refused(*args: str) -> str:
    """Run the CLI, expect a one-line refusal before anything ran; return that line."""
    started = time.perf_counter()
    result = cli(*args, timeout=60)
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert elapsed < 20, f"a refusal took {elapsed:.1f} s: something ran first"
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rate", "2000", "-d", "60"), "at most 100,000 requests, this one would send 120,000"),
        (("--rate", "5000", "-d", "600"), "this one would send 3,000,000"),
        (("--rate", "0.1", "-n", "1000"), "at most 600 s, this one would take 10,000 s"),
        (("-n", "100001"), "requests must be between 1 and 100000"),
        (("-d", "601"), "duration must be between 0.1 and 600 s"),
        (("--rate", "nan", "-n", "5"), "must be a finite number, got 'nan'"),
        (("--rate", "inf", "-n", "5"), "must be a finite number, got 'inf'"),
        (("--duration=-inf",), "must be a finite number, got '-inf'"),
        (("-d", "NaN"), "must be a finite number"),
        (("--port", "65536"), "port must be between 0 and 65535, got 65536"),
        (("--port", "-1"), "port must be between 0 and 65535, got -1"),
        (("--port", "99999999999999999999999"), "port must be between 0 and 65535"),
        (("--port", "http"), "invalid port 'http'"),
    ],
)
def test_a_run_too_big_as_a_whole_or_a_bad_number_is_refused(args, message):
    assert message in refused("run", "hello", *args)


def test_a_run_at_the_limit_is_accepted_as_a_plan():
    # 100,000 requests is the limit itself: refused only for another reason (its export path),
    # which proves the size check let it through without running it.
    line = refused("run", "hello", "--rate", "1000", "-d", "100", "--csv", "/no/such/folder/r.csv")
    assert "the folder /no/such/folder does not exist" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-c", "0", "-n", "0", "--rate", "nan"), "must be a finite number"),
        (("-c", "0", "-n", "0"), "--concurrency, --requests are for single demos"),
        (("-c", "5"), "--concurrency is for single demos"),
        (("--rate", "100", "-d", "2"), "--duration, --rate are for single demos"),
        (("-p", "delay=1"), "sets its own parameters"),
    ],
)
def test_a_scenario_refuses_the_options_it_does_not_take(args, message):
    assert message in refused("run", "one-blocking-call", *args)


def test_a_demo_parameter_of_nan_or_infinity_is_refused():
    assert "delay must be between" in refused("run", "async-sleep", "-p", "delay=nan")
    assert "delay must be between" in refused("run", "async-sleep", "-p", "delay=inf")


def test_export_paths_are_checked_before_the_run(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    read_only = tmp_path / "kept.csv"
    read_only.write_text("precious\n")
    read_only.chmod(stat.S_IRUSR | stat.S_IRGRP)
    cases = [
        (("--trace", str(folder)), f"--trace {folder} is a directory"),
        (("--csv", str(tmp_path / "missing" / "r.csv")), "does not exist"),
        (("--record", str(read_only / "r.json")), "is not a directory"),
        (("--csv", str(read_only)), "cannot be written (permission denied)"),
        (("--record", "/proc/explorer-run.json"), "cannot create a file in /proc"),
        (("--csv", "-", "--record", "-"), "both write to standard output"),
        (("--csv", str(tmp_path / "same"), "--trace", str(tmp_path / "same")), "both write to"),
        (("--csv", ""), "needs a file name"),
    ]
    for args, message in cases:
        # -d 600 would take ten minutes: a refusal that came after the run could not pass.
        assert message in refused("run", "hello", "-d", "600", *args), args
    assert read_only.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "kept.csv"]  # no probe left behind
    assert list(folder.iterdir()) == []


def test_dash_writes_the_export_to_stdout_and_the_summary_to_stderr(tmp_path):
    result = cli("run", "hello", "-n", "3", "--csv", "-", "--json", "--loop", "asyncio")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 and {r["status"] for r in rows} == {"200"}
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["completed"] == 3 and summary["interrupted"] is False and summary["incomplete"] is None
    assert not os.path.exists("-")

    record = cli("run", "hello", "-n", "2", "--record", "-", "--loop", "asyncio")
    assert record.returncode == 0, record.stderr
    assert len(json.loads(record.stdout)["client"]) == 2
    assert "hello: " in record.stderr and "timeline:" in record.stderr


def test_exports_replace_an_old_file_whole_and_keep_its_mode(tmp_path):
    old = tmp_path / "r.csv"
    old.write_text("old\n")
    old.chmod(0o640)
    result = cli("run", "hello", "-n", "2", "--csv", str(old), "--loop", "asyncio")
    assert result.returncode == 0, result.stderr
    assert old.read_text().startswith("id,demo,url")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_serve_refuses_a_port_out_of_range():
    assert "port must be between 0 and 65535, got 70000" in refused("serve", "--port", "70000")


def test_an_export_that_fails_after_the_run_is_one_line_and_the_summary_is_kept():
    # /dev/full accepts the open and fails the write (ENOSPC): a real disk-full, after the run.
    result = cli("run", "hello", "-n", "2", "--json", "--csv", "/dev/full", "--loop", "asyncio")
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["completed"] == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--csv /dev/full could not be written: No space left on device" in lines[0]


def test_a_reader_that_goes_away_does_not_lose_the_exports(tmp_path):
    import subprocess
    import sys

    from tests.engine.test_cli import ROOT

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", "hello", "-n", "400", "-c", "20", "--loop", "asyncio"]
        + ["--csv", "r.csv", "--trace", "-"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
    )
    proc.stdout.read(10)  # like `| head -c 10`: read a little, then leave
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 401


def test_an_export_through_a_symlink_writes_where_it_points(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    (tmp_path / "link.csv").symlink_to(target)
    result = cli("run", "hello", "-n", "2", "--csv", str(tmp_path / "link.csv"), "--loop", "asyncio")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.csv").is_symlink()
    assert target.read_text().startswith("id,demo,url")


def test_a_run_that_would_stall_the_loop_past_the_time_limit_is_refused():
    line = refused("run", "blocking-sleep", "--rate", "10", "-d", "61", "-p", "delay=1")
    assert "would block the event loop for 610 s" in line
