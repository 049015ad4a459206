"""A project's URL runs compared like a demo's: in the window (Compare → "Compare with…" and
"Compare with its last run", driven in a process of its own, see ``window_check``) and from
the terminal (``run URL --project P --save`` twice, then ``compare ID ID``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.mainproc import ROOT

from .makeproject import BLOCKING_LINE, make_project, project_env
from .test_project_window import check

CULPRIT = f"time.sleep, shop/views.py:{BLOCKING_LINE} in blocking"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("compare") / "comparesite")


def cli(env, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def test_window_compares_a_project_url_with_another_and_with_its_last_run(project, tmp_path):
    seen, done = check(tmp_path, "compare", str(project))
    assert "Compare with…" in seen["menu"] and "Compare with its last run" in seen["menu"]
    assert "/shop/items/" in seen["choices"] and "/shop/blocking/" not in seen["choices"]
    assert not any("<" in c for c in seen["choices"])  # patterns with arguments need them filled first
    with_ = seen["with"]
    assert with_["targets"] == ["/shop/blocking/", "/shop/items/"]
    assert with_["requests"] == [3, 3] and with_["concurrency"] == [3, 3]
    assert with_["statuses"] == [{"200": 3}, {"200": 3}]
    # The blocking view held the loop 0.3 s per request, one after another; the async ORM view did not.
    assert with_["blocked_ms"][0] >= 800 and with_["blocked_ms"][1] < with_["blocked_ms"][0] / 4
    assert with_["culprits"][0] == [CULPRIT]
    # The ORM view is not the culprit of any stall (the window's own redraw, on the same loop, may be).
    assert not any("shop/views.py" in (c or "") for c in with_["culprits"][1])
    assert with_["sentence"].startswith("/shop/items/ finished 3 requests in ")
    assert "/shop/blocking/: the event loop was blocked" in with_["sentence"]
    last = seen["last"]
    assert last["targets"] == ["/shop/blocking/", "/shop/blocking/"]
    assert last["requests"] == [3, 3] and last["concurrency"] == [3, 3]  # its last run's load, not the toolbar's
    assert last["culprits"] == [[CULPRIT], [CULPRIT]]
    assert seen["history"] == 3  # every run of both comparisons is in the history
    assert "Traceback" not in done.stderr


def test_cli_runs_of_two_urls_saved_in_the_history_compare(project, tmp_path):
    env = project_env(tmp_path)
    ids = []
    for url in ("/shop/blocking/", "/shop/items/"):
        done = cli(env, "run", url, "--project", str(project), "-c", "3", "--save")
        assert done.returncode == 0, done.stderr
        ids.append(re.search(r"saved as history run #(\d+)", done.stderr).group(1))
    done = cli(env, "compare", *ids, "--json")  # the history is the lab's: no --project needed
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    blocking, items = doc["runs"]
    assert (blocking["target"], items["target"]) == ("/shop/blocking/", "/shop/items/")
    assert blocking["requests"] == items["requests"] == 3
    assert blocking["values"]["blocked"] >= 800 and items["values"]["blocked"] < blocking["values"]["blocked"] / 4
    assert doc["sentence"].startswith("/shop/items/ finished 3 requests in ")
    assert any(CULPRIT in (f.get("evidence", {}).get("culprit") or "") for f in blocking["findings"])
    text = cli(env, "compare", *ids)
    assert text.returncode == 0 and text.stdout.startswith("/shop/items/ finished 3 requests in ")
