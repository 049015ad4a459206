"""The playground and the scenario editor, used through the window as a person uses them.

Buttons are clicked (qtbot.mouseClick), the shortcut is pressed, runs go through the
real server on the window's own Qt loop, and snippets and scenarios land in the test
session's real data directory.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QToolBar

from embedded_site import playground
from engine import scenario_file, snippets

from .conftest import call_in_loop, run_until

GOOD = """\
import asyncio

from django.http import JsonResponse

PARAMS = {"delay": (0.2, 0.0, 5.0, "seconds to wait"), "n": (1, 1, 10)}


async def view(request, delay, n):
    await asyncio.sleep(delay)
    return JsonResponse({"n": n})
"""

RAISES = """\
from django.http import JsonResponse


def view(request):
    rows = []
    return JsonResponse({"first": rows[0]})
"""


@pytest.fixture(autouse=True)
def _leave_nothing_mounted():
    """Later tests see the catalogue as a new session would: nothing mounted or composed."""
    yield
    for demo in list(playground.mounted().values()):
        playground.unmount(demo.slug)
    for path in [
        *snippets.snippets_dir().glob("gui-*.py"),
        *snippets.snippets_dir().glob("my-*.py"),
        *scenario_file.scenarios_dir().glob("gui-*.toml"),
    ]:
        path.unlink()
    scenario_file._composed.clear()


def click(widget) -> None:
    from pytestqt.qtbot import QtBot

    QtBot.mouseClick(widget, Qt.MouseButton.LeftButton)


def open_pane(window):
    if not window.playground_dock.isVisible():
        window.playground_dock.toggleViewAction().trigger()
    assert window.playground_dock.isVisible()
    return window.playground


def mount_text(window, name: str, text: str) -> None:
    pane = open_pane(window)
    pane.name.setText(name)
    pane.load_text(text)
    click(pane.mount_button)


def run_button(window):
    return window.findChild(QToolBar, "run-toolbar").widgetForAction(window.run_action)


def run_and_wait(window, loop, timeout: float = 60) -> None:
    call_in_loop(loop, lambda: click(run_button(window)))  # a click handled while the loop runs, as in the app
    assert window.run_task is not None, window.error.text()
    assert run_until(loop, lambda: window.run_task.done(), timeout)


def fetch(loop, url: str) -> httpx.Response:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            return await client.get(url)

    return loop.run_until_complete(get())


def test_a_mounted_view_is_in_the_catalogue_with_its_fields_and_runs_like_a_demo(window, gui_lab, qtbot) -> None:
    lab, loop = gui_lab
    pane = open_pane(window)
    pane.name.setText("gui-good")
    pane.load_text(GOOD)
    pane.editor.setFocus()
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter mounts
    assert "Mounted playground:gui-good at /playground/gui-good/" in pane.status.text()
    assert window.catalogue.current is not None and window.catalogue.current.id == "playground:gui-good"
    assert set(window.controls.param_editors) == {"delay", "n"}  # its PARAMS are run fields
    window.controls.param_editors["delay"].setValue(0.3)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.open_loop.setChecked(False)
    window.controls.concurrency.setValue(8)
    window.controls.requests.setValue(8)
    run_and_wait(window, loop)
    record = window.record
    assert record.config.target == "playground:gui-good"
    assert [c.status for c in record.client] == [200] * 8
    assert all(c.latency_ns >= 300_000_000 for c in record.client)
    assert "views-at-once" in {f["id"] for f in window.stats.findings}
    assert window.history.latest() is record  # kept in the session's runs like a demo's
    assert fetch(loop, f"{lab.url}/playground/gui-good/?n=3").json() == {"n": 3}


def test_a_syntax_error_marks_its_line_and_the_site_keeps_serving(window, gui_lab) -> None:
    lab, loop = gui_lab
    mount_text(
        window,
        "gui-broken",
        "from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('old')\n",
    )
    mount_text(window, "gui-broken", "from django.http import HttpResponse\n\n\ndef view(request)\n    return 1\n")
    pane = window.playground
    assert pane.editor.error_line == 4
    assert "SyntaxError" in pane.editor.error_message
    assert pane.status.text().startswith("Not mounted: playground/gui-broken.py:4: SyntaxError")
    assert [s.cursor.blockNumber() for s in pane.editor.extraSelections()] == [3]  # the line is shaded
    assert fetch(loop, f"{lab.url}/demo/hello/").status_code == 200
    assert fetch(loop, f"{lab.url}/playground/gui-broken/").text == "old"  # the last good mount still answers
    # Fixing it and mounting again clears the mark.
    pane.load_text("from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('new')\n")
    click(pane.mount_button)
    assert pane.editor.error_line is None
    assert fetch(loop, f"{lab.url}/playground/gui-broken/").text == "new"


def test_an_import_error_marks_its_line(window) -> None:
    mount_text(window, "gui-import", "import json\nfrom nowhere_at_all import thing\n\ndef view(request):\n    pass\n")
    assert window.playground.editor.error_line == 2
    assert "nowhere_at_all" in window.playground.status.text()


def test_a_view_that_raises_is_a_500_with_its_traceback_in_the_details(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    mount_text(window, "gui-raises", RAISES)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.concurrency.setValue(2)
    window.controls.requests.setValue(2)
    run_and_wait(window, loop)
    assert [c.status for c in window.record.client] == [500, 500]
    from .test_window import _point_on_bar

    x, y = _point_on_bar(window)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    assert window.details.isVisible()
    text = window.details.exception.toPlainText()
    assert "IndexError: list index out of range" in text
    assert 'File "playground/gui-raises.py", line 6, in view' in text
    assert 'return JsonResponse({"first": rows[0]})' in text


def test_snippets_are_kept_across_a_window_restart(gui_lab, qtbot) -> None:
    from gui.window import MainWindow

    lab, loop = gui_lab
    first = MainWindow(lab)
    qtbot.addWidget(first)
    first.show()
    mount_text(first, "gui-kept", GOOD.replace("0.2", "0.1"))
    assert (snippets.snippets_dir() / "gui-kept.py").read_text() == GOOD.replace("0.2", "0.1")
    first.close()
    playground.unmount("gui-kept")  # a new session: nothing mounted

    second = MainWindow(lab)
    qtbot.addWidget(second)
    second.show()
    pane = second.playground
    assert "gui-kept" in [pane.saved.itemText(i) for i in range(pane.saved.count())]
    assert pane.name.text() == "gui-kept" and pane.editor.toPlainText() == GOOD.replace("0.2", "0.1")
    click(pane.mount_button)
    assert "playground:gui-kept" in second.catalogue.targets
    second.close()


def test_open_in_playground_copies_a_demo_that_mounts_and_runs(window, gui_lab) -> None:
    _, loop = gui_lab
    window.catalogue.filter.clear()
    assert window.catalogue.select("blocking-sleep")
    button = window.catalogue.to_playground
    assert button.isVisible()
    click(button)
    pane = window.playground
    assert window.playground_dock.isVisible()
    assert pane.name.text() == "my-blocking-sleep"
    text = pane.editor.toPlainText()
    assert "async def blocking_sleep(request" in text and "time.sleep(delay)" in text
    assert "'delay': (0.5, 0.0, 10.0" in text
    click(pane.mount_button)
    assert window.catalogue.current.id == "playground:my-blocking-sleep"
    window.controls.param_editors["delay"].setValue(0.3)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.concurrency.setValue(2)
    window.controls.requests.setValue(2)
    run_and_wait(window, loop)
    blocked = next(f for f in window.stats.findings if f["id"] == "loop-blocked")
    assert "playground/my-blocking-sleep.py" in blocked["evidence"]["culprit"]
    assert "in blocking_sleep" in blocked["evidence"]["culprit"]


def test_a_scenario_composed_in_the_window_runs_saves_and_round_trips(window, gui_lab, tmp_path: Path) -> None:
    _, loop = gui_lab
    window.catalogue.filter.clear()
    window.catalogue.select("hello")
    call_in_loop(loop, window.compose_action.trigger)
    editor = window.scenario_editor
    assert editor.isVisible() and len(editor.rows) == 1
    editor.name.setText("gui-mix")
    editor.title.setText("sleepers beside hellos")
    first = editor.rows[0]
    first.target.setCurrentText("hello")
    first.concurrency.setValue(5)
    first.requests.setValue(5)
    click(editor.add_button)
    second = editor.rows[1]
    second.target.setCurrentText("async-sleep")
    second.params.setText("delay=0.3")
    second.concurrency.setValue(4)
    second.requests.setValue(4)
    second.start.setValue(0.1)
    call_in_loop(loop, lambda: click(editor.run_button))
    assert not editor.error.isVisible(), editor.error.text()
    assert run_until(loop, lambda: window.run_task is not None and window.run_task.done(), 60)
    record = window.record
    assert record.config.target == "gui-mix"
    assert sorted(c.demo for c in record.client) == ["async-sleep"] * 4 + ["hello"] * 5
    assert all(c.status == 200 for c in record.client)
    sleepers = [c for c in record.client if c.demo == "async-sleep"]
    assert min(c.intended_ns for c in sleepers) - record.started_ns >= 90_000_000  # its start offset

    click(editor.save_button)
    saved = scenario_file.scenarios_dir() / "gui-mix.toml"
    assert saved.is_file()
    assert "gui-mix" in window.catalogue.targets
    assert window.catalogue.current.id == "gui-mix"

    exported = tmp_path / "out.toml"
    assert editor.export_to(exported)
    assert scenario_file.read_file(exported).streams == record.config.streams

    second.params.setText("delay=99")
    call_in_loop(loop, lambda: click(editor.run_button))
    assert editor.error.isVisible()
    assert "stream 2 (async-sleep): delay must be between 0.0 and 10.0" in editor.error.text()
    editor.close()


def test_mounting_during_a_run_is_refused_so_the_run_measures_one_code(window, gui_lab) -> None:
    lab, loop = gui_lab
    mount_text(window, "gui-steady", GOOD)
    window.controls.param_editors["delay"].setValue(1.0)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.concurrency.setValue(2)
    window.controls.requests.setValue(2)
    call_in_loop(loop, lambda: click(run_button(window)))
    assert run_until(loop, lambda: lab.running, 10)
    pane = window.playground
    pane.load_text(GOOD.replace('{"n": n}', '{"changed": n}'))
    click(pane.mount_button)
    assert pane.status.text().startswith("A run is going")
    assert run_until(loop, lambda: window.run_task.done(), 60)
    assert [c.status for c in window.record.client] == [200, 200]
    assert fetch(loop, f"{lab.url}/playground/gui-steady/?delay=0").json() == {"n": 1}


def test_the_failing_line_is_painted_red_in_the_gutter_with_its_number(window) -> None:
    mount_text(
        window, "gui-paint", "from django.http import HttpResponse\n\ndef view(request):\n    return HttpResponse(\n"
    )
    editor = window.playground.editor
    assert editor.error_line == 4
    picture = editor.gutter.grab().toImage()
    block = editor.document().findBlockByNumber(3)
    top = editor.blockBoundingGeometry(block).translated(editor.contentOffset()).top()
    middle = int(top + editor.blockBoundingRect(block).height() / 2)
    assert picture.pixelColor(2, middle).name() == "#d32f2f"  # the mark, at the failing line's row
    first = editor.document().findBlockByNumber(0)
    first_middle = int(editor.blockBoundingGeometry(first).translated(editor.contentOffset()).top() + 4)
    assert picture.pixelColor(2, first_middle).name() == "#f3f3f3"  # another line is not marked
    assert editor.gutter.toolTip() == editor.error_message and "SyntaxError" in editor.error_message


def test_an_earlier_run_shows_the_code_it_measured_after_a_new_mount(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    mount_text(window, "gui-hist", GOOD)
    window.controls.param_editors["delay"].setValue(0.0)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.concurrency.setValue(1)
    window.controls.requests.setValue(1)
    run_and_wait(window, loop)
    first = window.record
    assert first.extra["snippets"] == {"playground:gui-hist": GOOD}
    changed = GOOD.replace('{"n": n}', '{"n": n, "changed": True}')
    mount_text(window, "gui-hist", changed)
    run_and_wait(window, loop)
    assert window.catalogue.source.toPlainText() == changed
    history = window.history
    index = history.proxy.index(history.row_of(history.id_of(first)), 0)
    history.table.scrollTo(index, history.table.ScrollHint.PositionAtTop)
    rect = history.table.visualRect(index)
    qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.record is first
    assert window.catalogue.source.toPlainText() == GOOD
    assert "This run measured the code shown below" in window.catalogue.lesson.text()
