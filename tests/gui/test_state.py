"""What the window shows is never left over from another run or another setting.

Real runs on the embedded site; the history table's row is picked with a real click.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from .conftest import call_in_loop, run_until
from .test_window import _configure


def _run(window, loop, target: str, requests: int, concurrency: int, **params: float) -> None:
    _configure(window, target, requests, concurrency, **params)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 90)


def _click_run(qtbot, history, run_id: int) -> None:
    """Click the history table's row of run ``run_id``."""
    index = history.proxy.index(history.row_of(run_id), 0)
    history.table.scrollTo(index, history.table.ScrollHint.PositionAtTop)
    rect = history.table.visualRect(index)
    qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_progress_resets_at_run_and_is_not_left_up_during_a_freeze(window, gui_lab) -> None:
    lab, loop = gui_lab
    _run(window, loop, "async-sleep", 7, 7, delay=0.05)
    assert "7 / 7 requests" in window.progress.text()
    _configure(window, "blocking-sleep", 2, 2, delay=0.4)
    assert call_in_loop(loop, window.start_run)
    seen: list[str] = []
    # Every progress text from Run to the end of the run: none is the previous run's.
    assert run_until(loop, lambda: seen.append(window.progress.text()) or window.run_task.done(), 60, interval=0)
    assert seen and all("7 / 7" not in text for text in seen)
    assert any("freezes for about 0.8 s" in text for text in seen)


def test_building_the_timeline_is_its_own_state(window, gui_lab) -> None:
    lab, loop = gui_lab
    _configure(window, "async-sleep", 30, 10, delay=0.02)
    assert call_in_loop(loop, window.start_run)
    states: list[tuple[bool, str]] = []

    def building() -> bool:
        if "building the timeline" in window.progress.text():
            states.append((window.run_action.isEnabled(), window.stats_panel.verdict.text()))
        return window.run_task.done()

    assert run_until(loop, building, 60, interval=0)
    assert states, "the building state was never shown"
    assert all(not enabled for enabled, _ in states)  # Run stays disabled while building
    assert all(verdict == "Building the timeline…" for _, verdict in states)
    assert window.run_action.isEnabled() and "30 / 30" in window.progress.text()


def test_an_error_clears_when_its_field_is_fixed(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "async-sleep", 0, 5)
    assert call_in_loop(loop, window.start_run) is False
    assert window.error.isVisible() and "requests must be between" in window.error.text()
    window.controls.concurrency.setValue(0)  # another field wrong too: the message follows
    assert window.error.isVisible()
    window.controls.requests.setValue(5)
    assert window.error.isVisible() and "concurrency must be between" in window.error.text()
    window.controls.concurrency.setValue(5)
    assert not window.error.isVisible()


def test_an_earlier_run_brings_back_its_demo_settings_and_banner(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "blocking-sleep", 2, 2, delay=0.3)
    first = window.record
    assert window.banner.isVisible() and "frozen" in window.banner.text()
    _run(window, loop, "async-sleep", 6, 3, delay=0.05)
    assert not window.banner.isVisible()
    assert "latest" in window.showing.text()

    history = window.history
    assert run_until(loop, lambda: history.pending == 0, 30)  # both stored by the history's worker
    latest = window.record
    _click_run(qtbot, history, history.id_of(first))
    assert window.record is first
    assert window.catalogue.current.id == "blocking-sleep"
    assert "time.sleep" in window.catalogue.source.toPlainText()
    assert window.controls.concurrency.value() == 2 and window.controls.requests.value() == 2
    assert abs(window.controls.param_editors["delay"].value() - 0.3) < 1e-9
    assert window.banner.isVisible() and "frozen" in window.banner.text()
    assert "EARLIER" in window.showing.text()
    assert "2 / 2 requests" in window.progress.text()

    _click_run(qtbot, history, history.id_of(latest))
    assert window.catalogue.current.id == "async-sleep"
    assert window.controls.concurrency.value() == 3
    assert not window.banner.isVisible() and "latest" in window.showing.text()
