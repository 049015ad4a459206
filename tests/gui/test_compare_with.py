"""Comparing a playground snippet with a demo, and a target with its own last run, and
deleting saved snippets and scenarios: through the window, by clicks, on the real server.

The snippet is mounted from the pane, the compare button clicked, the other target chosen
in the dialog and its button clicked; both runs go through the real site on the window's
own Qt loop and the comparison window holds their measured numbers.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from embedded_site import playground
from engine import scenario_file, snippets
from engine.config import Stream
from engine.scenarios import Scenario

from .conftest import call_in_loop, run_until

NAP = '''\
import asyncio

from django.http import JsonResponse

PARAMS = {"nap": (0.3, 0.0, 5.0, "seconds to wait")}


async def view(request, nap):
    """Naps, then answers."""
    await asyncio.sleep(nap)
    return JsonResponse({"nap": nap})
'''


@pytest.fixture(autouse=True)
def _leave_nothing_behind():
    """Later tests see the catalogue as a new session would: nothing mounted or composed."""
    yield
    for demo in list(playground.mounted().values()):
        playground.unmount(demo.slug)
    for path in [*snippets.snippets_dir().glob("cmp-*.py"), *scenario_file.scenarios_dir().glob("cmp-*.toml")]:
        path.unlink()
    scenario_file._composed.clear()


def click(widget) -> None:
    from pytestqt.qtbot import QtBot

    QtBot.mouseClick(widget, Qt.MouseButton.LeftButton)


def open_pane(window):
    if not window.playground_dock.isVisible():
        window.playground_dock.toggleViewAction().trigger()
    return window.playground


def set_load(window, concurrency: int, requests: int) -> None:
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.open_loop.setChecked(False)
    window.controls.requests.setValue(requests)
    window.controls.concurrency.setValue(concurrency)


def comparison_of(window, loop):
    assert window.series_task is not None, window.error.text()
    assert run_until(loop, lambda: window.series_task.done(), 120)
    view = window.series_task.result()
    assert view is not None and view.isVisible()
    return view


def test_compare_with_runs_the_snippet_and_a_demo_at_one_load(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    pane = open_pane(window)
    pane.name.setText("cmp-nap")
    pane.load_text(NAP)
    window.catalogue.select("hello")
    set_load(window, 4, 8)  # kept when the mounted snippet becomes the toolbar's target
    call_in_loop(loop, lambda: click(pane.compare_button))
    assert window.catalogue.current.id == "playground:cmp-nap"  # mounted, selected, run first
    dialog = window.compare_with_dialog
    assert dialog is not None and dialog.isVisible()
    choices = [dialog.other.itemText(i) for i in range(dialog.other.count())]
    assert "hello" in choices and "async-sleep" in choices and "playground:cmp-nap" not in choices
    assert "4 users and 8 requests" in dialog.findChild(type(window.progress)).text()
    dialog.other.setCurrentText("hello")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    call_in_loop(loop, lambda: click(ok))
    view = comparison_of(window, loop)
    qtbot.addWidget(view)
    runs = view.comparison.runs
    records = [r.record for r in runs]
    assert [r.config.target for r in records] == ["playground:cmp-nap", "hello"]
    assert [len(r.client) for r in records] == [8, 8]
    assert [r.config.streams[0].concurrency for r in records] == [4, 4]
    assert all(c.status == 200 for r in records for c in r.client)
    # The snippet's own numbers: each request napped its 0.3 s; hello answered at once.
    nap_p50, hello_p50 = (r.stats.latency_ms["p50"] for r in runs)
    assert 290 <= nap_p50 < 5000 and hello_p50 < nap_p50
    assert view.comparison.sentence.startswith("hello finished 8 requests in ")
    assert "playground:cmp-nap" in view.comparison.sentence and "playground:cmp-nap" in view.windowTitle()
    assert view.sentence.text() == view.comparison.sentence  # shown as it is: no markup, no entities
    stored = list(window.history.records.values())
    assert all(any(r is s for s in stored) for r in records)  # both are in the history too


def test_compare_with_its_last_run_reruns_at_that_load_after_a_change(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    pane = open_pane(window)
    pane.name.setText("cmp-again")
    pane.load_text(NAP)
    call_in_loop(loop, lambda: click(pane.mount_button))
    set_load(window, 3, 3)
    window.controls.param_editors["nap"].setValue(0.2)
    call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task is not None and window.run_task.done(), 60)
    first = window.record
    # The code changes (no more nap), is mounted again, and the toolbar's load changes too.
    pane.load_text(NAP.replace("await asyncio.sleep(nap)", "pass"))
    call_in_loop(loop, lambda: click(pane.mount_button))
    set_load(window, 1, 1)
    call_in_loop(loop, window.compare_last_action.trigger)
    view = comparison_of(window, loop)
    qtbot.addWidget(view)
    before, after = (r.record for r in view.comparison.runs)
    assert before is first
    assert after.config.streams[0] == first.config.streams[0]  # the last run's load and parameters
    assert before.extra["snippets"]["playground:cmp-again"] != after.extra["snippets"]["playground:cmp-again"]
    b, a = (r.stats.latency_ms["p50"] for r in view.comparison.runs)
    assert b >= 190 and a < b  # the nap was measured before and is gone after
    assert view.comparison.sentence.startswith("playground:cmp-again")


def test_compare_with_its_last_run_without_one_says_so(window, gui_lab) -> None:
    _, loop = gui_lab
    pane = open_pane(window)
    pane.name.setText("cmp-fresh")
    pane.load_text(NAP)
    call_in_loop(loop, lambda: click(pane.mount_button))
    assert call_in_loop(loop, window.compare_last_action.trigger) is None
    assert "has no earlier run in the history" in window.statusBar().currentMessage()
    assert window.series_task is None or window.series_task.done()


def test_deleting_a_saved_snippet_asks_then_removes_its_file_and_its_entry(window, gui_lab) -> None:
    _, loop = gui_lab
    pane = open_pane(window)
    pane.name.setText("cmp-gone")
    pane.load_text(NAP)
    call_in_loop(loop, lambda: click(pane.mount_button))
    path = snippets.path_of("cmp-gone")
    assert path.is_file() and "playground:cmp-gone" in window.catalogue.targets
    for answer, kept in ((QMessageBox.StandardButton.Cancel, True), (QMessageBox.StandardButton.Yes, False)):
        pane.saved.setCurrentText("cmp-gone")
        click(pane.delete_button)
        box = pane.delete_box
        assert box is not None and box.isVisible() and "cmp-gone" in box.text() and str(path) in box.text()
        click(box.button(answer))
        assert pane.delete_box is None
        assert path.is_file() is kept
        assert ("cmp-gone" in [pane.saved.itemText(i) for i in range(pane.saved.count())]) is kept
        assert ("playground:cmp-gone" in window.catalogue.targets) is kept
    assert "playground:cmp-gone" not in playground.mounted()  # no longer served either
    assert "Deleted cmp-gone" in pane.status.text()
    # Run on the toolbar that still shows it is refused with one sentence, not run from memory.
    assert call_in_loop(loop, window.start_run) is False
    assert "no playground snippet named 'cmp-gone' is saved" in window.error.text()


def test_deleting_a_saved_scenario_asks_then_removes_its_file_and_its_entry(window, gui_lab) -> None:
    _, loop = gui_lab
    window.catalogue.filter.clear()
    window.catalogue.select("hello")
    call_in_loop(loop, window.compose_action.trigger)
    editor = window.scenario_editor
    editor.set_scenario(Scenario("cmp-pair", "two hellos", "", (Stream("hello", {}, concurrency=2, requests=2),)))
    assert not editor.delete_button.isEnabled()  # not saved yet: nothing to delete
    click(editor.save_button)
    path = scenario_file.scenarios_dir() / "cmp-pair.toml"
    assert path.is_file() and "cmp-pair" in window.catalogue.targets and editor.delete_button.isEnabled()
    for answer, kept in ((QMessageBox.StandardButton.Cancel, True), (QMessageBox.StandardButton.Yes, False)):
        click(editor.delete_button)
        box = editor.delete_box
        assert box is not None and box.isVisible() and "cmp-pair" in box.text() and str(path) in box.text()
        click(box.button(answer))
        assert path.is_file() is kept
        assert ("cmp-pair" in window.catalogue.targets) is kept
    assert "cmp-pair" not in scenario_file.composed() and not editor.delete_button.isEnabled()
    editor.close()
