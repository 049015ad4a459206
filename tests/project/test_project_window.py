"""The window serving a project (``./explorer --project PATH``), driven by clicks and keys in
a process of its own (see ``window_check``), and the dialog for a project it cannot serve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .makeproject import BLOCKING_LINE, make_project, project_env

CHECK = Path(__file__).with_name("window_check.py")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("window") / "shopsite")


def check(tmp_path: Path, mode: str, path: str) -> tuple[dict, subprocess.CompletedProcess[str]]:
    done = subprocess.run(
        [sys.executable, str(CHECK), mode, path],
        capture_output=True,
        text=True,
        timeout=300,
        env=project_env(tmp_path),
        stdin=subprocess.DEVNULL,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-3000:]
    return json.loads(line.removeprefix("RESULT ")), done


def test_window_lists_the_projects_urls_and_runs_one_with_its_culprit(project, tmp_path):
    seen, done = check(tmp_path, "run", str(project))
    assert seen["groups"] == ["URLs of shopsite"]
    assert seen["first"] == "/shop/blocking/"  # the first pattern that runs as it is
    assert seen["database"].startswith(f"database: sqlite3 '{project / 'db.sqlite3'}'")
    assert "Open project…" in seen["file_menu"] and "Back to the demo site" in seen["file_menu"]
    # The argument field takes an int only, and fills the URL.
    assert seen["arg_fields"] == ["pk"] and seen["filled"] == "/shop/item/7/"
    assert seen["source"] == "def item(request, pk):"
    # Another method than GET asks first, naming the database; No keeps GET, Yes sends it.
    assert seen["method_after_no"] == "GET"
    assert "may write to the project's database (sqlite3" in seen["method_box"][0]
    assert seen["target_after_yes"] == "DELETE /shop/item/7/"
    assert seen["typed"] == "/shop/items/?q=typed"
    # Run pressed on the blocking view: the findings name the project's own line.
    assert seen["statuses"] == {"200": 3}
    assert seen["findings"]["loop-blocked"] == f"time.sleep, shop/views.py:{BLOCKING_LINE} in blocking"
    assert f"shop/views.py:{BLOCKING_LINE}" in seen["verdict"]
    assert seen["history"] == 1
    assert "database: sqlite3" in done.stderr  # said on the terminal too, before the first run
    # File → Open project…
    assert seen["open_not_a_project"] is False
    assert seen["open_dialogs"][0].startswith("no project at ")
    assert seen["open_declined"] is False
    assert "starts again serving shopsite (mysite.settings)" in seen["open_dialogs"][1]
    assert seen["copy_offered"] is True  # SQLite: the copy is offered
    assert "starts again serving shopsite on a copy of its database" in seen["open_dialogs"][2]
    assert seen["copy_relaunch_after_no"] is None
    assert seen["open_accepted"] is True and seen["closed"] is True
    assert seen["relaunch"] == ["--project", str(project)]


def test_window_refuses_a_project_it_cannot_serve_with_a_dialog_and_one_line(tmp_path):
    seen, done = check(tmp_path, "refuse", str(tmp_path / "nowhere"))
    assert seen["status"] == 2
    assert seen["dialog"] == [f"no project at '{tmp_path / 'nowhere'}': that path does not exist"]
    assert "Traceback" not in done.stderr
    assert f"error: no project at '{tmp_path / 'nowhere'}'" in done.stderr
