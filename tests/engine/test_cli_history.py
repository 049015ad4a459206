"""`run --save`, `history` and `show` through the real command line, with a private data dir."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.engine.mainproc import ROOT, main_env


def main(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two runs stored with --save (one also written with --record), in a data dir of their own."""
    tmp = tmp_path_factory.mktemp("cli-history")
    env = main_env(tmp)
    record = tmp / "sync.json"
    first = main(env, "run", "sync-sleep", "-c", "4", "-p", "delay=0.1", "--save", "--json", "--record", str(record))
    second = main(env, "run", "async-sleep", "-c", "6", "-p", "delay=0.1", "--save", "--json")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    return env, tmp, record, json.loads(first.stdout), json.loads(second.stdout), first.stderr, second.stderr


def test_run_save_says_where_it_went(saved):
    *_, err1, err2 = saved
    assert "saved as history run #1" in err1 and "saved as history run #2" in err2


def test_history_lists_both_newest_first_with_their_settings(saved):
    env, _tmp, _record, first, second, *_ = saved
    listing = main(env, "history", "--json")
    assert listing.returncode == 0, listing.stderr
    doc = json.loads(listing.stdout)
    assert [r["id"] for r in doc["runs"]] == [2, 1] and doc["count"] == 2 and doc["size_bytes"] > 0
    runs = {r["target"]: r for r in doc["runs"]}
    assert runs["sync-sleep"]["concurrency"] == 4 and runs["sync-sleep"]["params"] == "delay=0.1"
    assert runs["sync-sleep"]["p99_ms"] == first["latency_ms"]["p99"]
    assert runs["async-sleep"]["headline"] == second["verdict"]
    text = main(env, "history")
    assert text.returncode == 0 and "#1" in text.stdout and "sync-sleep" in text.stdout and "2 runs" in text.stdout
    only = json.loads(main(env, "history", "--json", "--demo", "async-sleep").stdout)
    assert [r["id"] for r in only["runs"]] == [2]


def _same_summary(shown: dict, ran: dict) -> None:
    for key, value in ran.items():
        assert shown[key] == value, key


def test_show_prints_the_summary_the_run_printed(saved):
    env, _tmp, record, first, second, *_ = saved
    by_id = main(env, "show", "1", "--json")
    assert by_id.returncode == 0, by_id.stderr
    shown = json.loads(by_id.stdout)
    _same_summary(shown, first)
    assert shown["past"]["kind"] == "history"
    from_file = json.loads(main(env, "show", str(record), "--json").stdout)
    _same_summary(from_file, first)
    assert from_file["past"] == {"kind": "file", "source": str(record), "missing": []}
    text = main(env, "show", "#2")
    assert text.returncode == 0
    assert text.stdout.startswith("(a past run, from history #2)") and second["verdict"] in text.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["show", "99"], "no run #99 in the history"),
        (["show", "nothing-here.run.json.gz"], "not a history id and no such file"),
        (["show", "/etc/hostname"], "not a run file"),
        (["show", "/"], "is a folder"),
        (["show"], "required"),
    ],
)
def test_a_bad_run_is_one_line_and_status_2(saved, args, words):
    env = saved[0]
    result = main(env, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr and "Traceback" not in result.stderr


def test_an_empty_history(tmp_path):
    result = main(main_env(tmp_path), "history")
    assert result.returncode == 0 and "no runs in the history" in result.stdout


def test_a_corrupt_history_is_moved_aside_by_the_command_too(tmp_path):
    env = main_env(tmp_path)
    bad = tmp_path / "data" / "history.sqlite3"
    bad.write_bytes(b"\x00not sqlite\x00" * 1000)
    result = main(env, "history")
    assert result.returncode == 0 and "no runs in the history" in result.stdout
    assert result.stderr.count("\n") == 1 and "kept it as history.sqlite3.corrupt-" in result.stderr
    (moved,) = (tmp_path / "data").glob("history.sqlite3.corrupt-*")
    assert moved.read_bytes() == b"\x00not sqlite\x00" * 1000


def test_a_saving_run_killed_mid_run_leaves_the_history_as_it_was(saved):
    import signal
    import time

    from tests.engine.mainproc import start_main

    env = saved[0]
    before = json.loads(main(env, "history", "--json").stdout)
    child = start_main(["run", "async-sleep", "-c", "5", "-d", "20", "-p", "delay=0.1", "--save"], env)
    time.sleep(4)  # well into its run
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    after = main(env, "history", "--json")
    assert after.returncode == 0 and after.stderr == ""  # opens fine, nothing moved aside
    assert json.loads(after.stdout)["runs"] == before["runs"]
