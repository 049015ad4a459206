"""``main.py run --view FILE.py`` and ``main.py run FILE.toml``, run as a user runs them.

Each is a real ``main.py`` process with its own data directory, serving on a real socket;
bad files are refused with one line and exit 2 before anything runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import Stream
from engine.scenario_file import dumps, parse
from engine.scenarios import SCENARIOS, Scenario

from .mainproc import ROOT, main_env

BLOCKER = """\
import time

from django.http import JsonResponse

PARAMS = {"delay": (0.2, 0.0, 5.0, "seconds the loop is held")}


async def view(request, delay):
    time.sleep(delay)
    return JsonResponse({"held": delay})


def other(request, delay):
    return JsonResponse({"other": True})
"""


def cli(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=main_env(tmp_path),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_run_view_mounts_the_file_and_its_culprit_names_the_files_line(tmp_path: Path) -> None:
    view = tmp_path / "my_blocker.py"
    view.write_text(BLOCKER)
    result = cli(tmp_path, "run", "--view", str(view), "-c", "3", "-n", "3", "-p", "delay=0.3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["demo"] == "playground:my-blocker"
    assert doc["statuses"] == {"200": 3}
    blocked = next(f for f in doc["findings"] if f["id"] == "loop-blocked")
    assert f"{view.resolve()}:9 in view" in blocked["evidence"]["culprit"]
    assert doc["wall_s"] >= 0.85  # three 0.3 s holds of the one loop, one after another


def test_run_view_with_a_name_picks_that_function(tmp_path: Path) -> None:
    view = tmp_path / "two.py"
    view.write_text(BLOCKER)
    result = cli(tmp_path, "run", "--view", f"{view}:other", "-n", "2", "-c", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["statuses"] == {"200": 2}


def test_run_view_on_a_child_server_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """A child server serves the site it loaded at its start, not a view mounted in the lab:
    one line, exit 2, no server started (it would have answered 404s)."""
    view = tmp_path / "mine.py"
    view.write_text(BLOCKER)
    result = cli(tmp_path, "run", "--view", str(view), "--server", "uvicorn", "-n", "2")
    assert result.returncode == 2, result.stderr
    assert one_line_refusal(result) == (
        "error: playground:mine is mounted in the lab's own process, which uvicorn in a child process "
        "does not serve: run it on the embedded server"
    )


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("def view(request):\n    return (\n", (), "{file}:2: SyntaxError: '(' was never closed"),
        (
            "import not_a_module_anywhere\n",
            (),
            "{file}:1: ModuleNotFoundError: No module named 'not_a_module_anywhere'",
        ),
        (BLOCKER, ("-p", "delay=50"), "delay must be between 0.0 and 5.0, got 50"),
        (BLOCKER, ("-p", "rows=3"), "takes no parameter rows"),
        ("x = 1\n", (), "{file}: define a function named `view` (the snippet defines none)"),
    ],
)
def test_run_view_refuses_a_bad_file_with_one_line(tmp_path: Path, content: str, args: tuple, expected: str) -> None:
    view = tmp_path / "bad.py"
    view.write_text(content)
    line = one_line_refusal(cli(tmp_path, "run", "--view", str(view), *args))
    assert expected.format(file=view) in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--view", "/no/such/dir/view.py"), "--view /no/such/dir/view.py: the file does not exist"),
        (("--view", "notes.txt"), "--view takes a Python file"),
        (("hello", "--view", "x.py"), "give either a target or --view FILE.py, not both"),
        ((), "give a demo or scenario id, a scenario FILE.toml, or --view FILE.py"),
    ],
)
def test_run_view_refuses_bad_paths_with_one_line(tmp_path: Path, args: tuple, expected: str) -> None:
    assert expected in one_line_refusal(cli(tmp_path, "run", *args))


SCENARIO = """\
title = "Twenty sleepers and one blocker"
lesson = "One blocking call spoils the batch"

[[stream]]
target = "async-sleep"
params = { delay = 0.3 }
concurrency = 20
requests = 20

[[stream]]
target = "blocking-sleep"
params = { delay = 0.5 }
start = 0.1
"""


def test_run_a_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(SCENARIO)
    result = cli(tmp_path, "run", str(path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["demo"] == "mine" and doc["requests"] == 21 and doc["statuses"] == {"200": 21}
    blocked = next(f for f in doc["findings"] if f["id"] == "loop-blocked")
    assert "in blocking_sleep" in blocked["evidence"]["culprit"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("title = \n", "not valid TOML: Invalid value (at line 1, column 9)"),
        ('[[stream]]\ntarget = "no-such-demo"\n', "stream 1: unknown demo 'no-such-demo'"),
        ('[[stream]]\ntarget = "hello"\nconcurrency = "ten"\n', "stream 1: concurrency must be a whole number"),
        ('[[stream]]\ntarget = "hello"\nconcurrency = 0\n', "concurrency must be between 1 and 1000, got 0"),
        ('[[stream]]\ntarget = "hello"\nrequests = 5\nduration = 2.0\n', "not both"),
        ('[[stream]]\ntarget = "async-sleep"\nparams = { delay = 99 }\n', "delay must be between 0.0 and 10.0"),
        ('[[stream]]\ntarget = "hello"\nspeed = 3\n', "stream 1: unknown key 'speed'"),
        ('title = "no streams"\n', "a scenario needs at least one [[stream]] table"),
        ('[[stream]]\ntarget = "playground:never-saved"\n', "no playground snippet named 'never-saved' is saved"),
    ],
)
def test_a_bad_scenario_file_is_one_line_and_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    assert expected in one_line_refusal(cli(tmp_path, "run", str(path)))


def test_a_missing_scenario_file_is_one_line(tmp_path: Path) -> None:
    assert "does not exist" in one_line_refusal(cli(tmp_path, "run", str(tmp_path / "gone.toml")))


def test_a_scenario_file_may_run_a_saved_playground_snippet(tmp_path: Path) -> None:
    snippets = tmp_path / "data" / "playground"
    snippets.mkdir(parents=True)
    (snippets / "blocker.py").write_text(BLOCKER)
    path = tmp_path / "with-snippet.toml"
    path.write_text('[[stream]]\ntarget = "playground:blocker"\nparams = { delay = 0.1 }\nrequests = 2\n')
    result = cli(tmp_path, "run", str(path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["statuses"] == {"200": 2}
    culprit = next(f for f in doc["findings"] if f["id"] == "loop-blocked")["evidence"]["culprit"]
    assert "playground/blocker.py:9 in view" in culprit


def test_toml_round_trip_keeps_every_stream_field() -> None:
    scenario = Scenario(
        "round",
        'A "quoted" title',
        "two lines\nof lesson",
        (
            Stream("async-sleep", {"delay": 0.25}, concurrency=7, requests=30, start_s=0.5),
            Stream("hello", {}, concurrency=50, rate=100.0, duration_s=3.0),
            Stream("playground:mine", {"n": 3}, concurrency=2, duration_s=1.5),
        ),
    )
    assert parse(dumps(scenario), "round", "round.toml") == scenario
    for builtin in SCENARIOS.values():
        copy = Scenario(builtin.id, builtin.title, builtin.lesson, builtin.streams)
        assert parse(dumps(copy), builtin.id, "x.toml") == copy


def test_run_a_saved_snippet_by_its_target_id(tmp_path: Path) -> None:
    snippets = tmp_path / "data" / "playground"
    snippets.mkdir(parents=True)
    (snippets / "kept.py").write_text(BLOCKER)
    result = cli(tmp_path, "run", "playground:kept", "-n", "2", "-c", "1", "-p", "delay=0.05", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["statuses"] == {"200": 2}
    refused = one_line_refusal(cli(tmp_path, "run", "playground:gone"))
    assert "no playground snippet named 'gone' is saved (saved: kept)" in refused
