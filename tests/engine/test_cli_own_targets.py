"""The person's own targets through the real CLI: ``list`` shows the saved snippets and saved
scenarios (as text and ``--json``) with the way ``run`` takes each, every one listed runs as
listed, and a ``run --view FILE.py --save`` compares with a demo run from the history.

Each ``main.py`` is a real process with a real data directory holding real files.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .mainproc import ROOT, main_env

NAP = '''\
import asyncio

from django.http import HttpResponse

PARAMS = {"delay": (0.1, 0.0, 2.0, "seconds to wait")}


async def view(request, delay):
    """Naps a while, then answers."""
    await asyncio.sleep(delay)
    return HttpResponse("ok")
'''

BROKEN = "from django.http import HttpResponse\n\ndef view(request)\n    return HttpResponse('x')\n"

SCENARIO = """\
title = "A nap beside hello"

[[stream]]
target = "playground:cli-nap"
params = { delay = 0.2 }
concurrency = 3
requests = 3

[[stream]]
target = "hello"
requests = 2
"""


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
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
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """A data directory holding two snippets (one that does not compile) and a scenario, as
    the playground and the scenario editor leave them."""
    tmp = tmp_path_factory.mktemp("own-targets")
    env = main_env(tmp)
    data = Path(env["EXPLORER_DATA_DIR"])
    (data / "playground").mkdir()
    (data / "playground" / "cli-nap.py").write_text(NAP, encoding="utf-8")
    (data / "playground" / "cli-broken.py").write_text(BROKEN, encoding="utf-8")
    (data / "scenarios").mkdir()
    (data / "scenarios" / "cli-mix.toml").write_text(SCENARIO, encoding="utf-8")
    return env, data


def test_list_has_a_section_for_saved_snippets_and_one_for_saved_scenarios(kept) -> None:
    env, data = kept
    done = cli(env, "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    snippets_at = next(i for i, line in enumerate(lines) if line.startswith("Saved snippets"))
    scenarios_at = next(i for i, line in enumerate(lines) if line.startswith("Saved scenarios"))
    assert "run playground:NAME" in lines[snippets_at] and "run --view FILE.py" in lines[snippets_at]
    assert "run FILE.toml" in lines[scenarios_at]
    snippet_lines = lines[snippets_at + 1 : scenarios_at]
    nap = next(line for line in snippet_lines if "playground:cli-nap" in line)
    assert "Naps a while, then answers." in nap and "[delay]" in nap and str(data / "playground" / "cli-nap.py") in nap
    broken = next(line for line in snippet_lines if "playground:cli-broken" in line)
    assert "does not mount: syntax error, line 3" in broken
    mix = next(line for line in lines[scenarios_at + 1 :] if line.strip().startswith("cli-mix "))
    assert "A nap beside hello" in mix and str(data / "scenarios" / "cli-mix.toml") in mix
    # The built-in scenarios' section does not list the saved one a second time.
    builtin = lines[lines.index("Scenarios") + 1 : snippets_at]
    assert not any(line.strip().startswith("cli-mix ") for line in builtin)


def test_list_json_has_both_sections_and_runs_nothing(kept) -> None:
    env, data = kept
    marker = data / "ran"
    (data / "playground" / "cli-side-effect.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n\ndef view(request):\n    pass\n",
        encoding="utf-8",
    )
    try:
        done = cli(env, "list", "--json")
    finally:
        (data / "playground" / "cli-side-effect.py").unlink()
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    by_id = {s["id"]: s for s in doc["snippets"]}
    assert by_id["playground:cli-nap"] == {
        "id": "playground:cli-nap",
        "name": "cli-nap",
        "file": str(data / "playground" / "cli-nap.py"),
        "title": "Naps a while, then answers.",
        "params": ["delay"],
        "problem": None,
        "run": "run playground:cli-nap",
    }
    assert by_id["playground:cli-broken"]["problem"].startswith("syntax error, line 3")
    assert not marker.exists()  # listing read the snippets' syntax, it did not run them
    (mix,) = doc["saved_scenarios"]
    assert mix["id"] == "cli-mix" and mix["run"] == "run cli-mix" and mix["problem"] is None
    assert mix["streams"] == ["playground:cli-nap", "hello"] and mix["file"] == str(data / "scenarios" / "cli-mix.toml")
    assert "cli-mix" in {s["id"] for s in doc["scenarios"]}  # still runnable beside the built-in ones


def test_what_list_shows_runs_the_way_it_says(kept) -> None:
    env, _data = kept
    snippet = cli(env, "run", "playground:cli-nap", "-c", "4", "-p", "delay=0.2", "--json")
    assert snippet.returncode == 0, snippet.stderr
    doc = json.loads(snippet.stdout)
    assert doc["demo"] == "playground:cli-nap" and doc["requests"] == 4 and doc["errors"] == 0
    assert 150 <= doc["latency_ms"]["p50"] < 5000  # it waited its 0.2 s, concurrently
    scenario = cli(env, "run", "cli-mix", "--json")
    assert scenario.returncode == 0, scenario.stderr
    doc = json.loads(scenario.stdout)
    assert doc["demo"] == "cli-mix" and doc["requests"] == 5 and doc["errors"] == 0


def test_a_view_file_run_saved_in_the_history_compares_with_a_demo(kept, tmp_path: Path) -> None:
    env, data = kept
    view = tmp_path / "slow_nap.py"
    view.write_text(NAP, encoding="utf-8")
    ids = []
    for args in (["--view", str(view), "-p", "delay=0.3"], ["async-sleep", "-p", "delay=0.05"]):
        done = cli(env, "run", *args, "-c", "5", "--save")
        assert done.returncode == 0, done.stderr
        ids.append(re.search(r"saved as history run #(\d+)", done.stderr).group(1))
    done = cli(env, "compare", *ids, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    first, second = doc["runs"]
    assert first["target"] == "playground:slow-nap" and second["target"] == "async-sleep"
    assert first["requests"] == second["requests"] == 5
    assert first["values"]["p50"] >= 250 and second["values"]["p50"] < first["values"]["p50"]  # 0.3 s vs 0.05 s
    assert (
        doc["sentence"].startswith("async-sleep finished 5 requests in ") and "playground:slow-nap" in doc["sentence"]
    )
    text = cli(env, "compare", *ids)
    assert text.returncode == 0 and "playground:slow-nap" in text.stdout.splitlines()[2]
