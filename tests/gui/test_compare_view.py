"""Comparing in the window: the twin button clicked runs both demos and opens the comparison,
whose timelines share one time axis; the charts tab; a preset with a child-process loop."""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QToolBar

from engine.charts import time_series
from gui import compare_menu

from .conftest import call_in_loop, run_until
from .test_window import _configure


def _painted_colours(widget) -> set[str]:
    """Paint ``widget`` through its own paint() (an error raises here, not in Qt's handler) and
    return the colours its pixels hold."""
    image = QImage(widget.size(), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        widget.paint(painter)
    finally:
        painter.end()
    return {QColor(image.pixel(x, y)).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}


def _twin_button(window):
    bar = window.findChild(QToolBar, "run-toolbar")
    return bar.widgetForAction(window.twin_action)


def _wheel(widget, x: float, steps: int) -> None:
    pos = QPointF(x, widget.height() / 2)
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_twin_button_runs_both_and_opens_a_comparison_on_one_axis(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _configure(window, "fanout-sequential", 6, 3)
    button = _twin_button(window)
    assert button is not None and button.isEnabled()
    call_in_loop(loop, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))
    assert window.series_task is not None
    assert run_until(loop, lambda: window.series_task.done(), 120)
    view = window.series_task.result()
    assert view is not None and view.isVisible()
    qtbot.addWidget(view)
    # Both ran with the same settings, the demo first (the baseline), then its twin.
    records = [r.record for r in view.comparison.runs]
    assert [r.config.target for r in records] == ["fanout-sequential", "fanout-gather"]
    assert [len(r.client) for r in records] == [6, 6]
    assert records[0].config.streams[0].concurrency == records[1].config.streams[0].concurrency == 3
    assert run_until(loop, lambda: window.history.pending == 0, 30)
    stored = list(window.history.records.values())
    assert all(any(r is s for s in stored) for r in records)  # each run is in the history too
    # The sentence is computed from the numbers: gather won, and the sequential awaits say why.
    walls = [r.final_stats().wall_s for r in records]
    assert walls[1] < walls[0]
    assert view.comparison.sentence.startswith("fanout-gather finished 6 requests in ")
    assert view.sentence.text().startswith("fanout-gather")
    # Two timelines stacked, one axis: zoom one, the other follows.
    assert len(view.views) == 2
    a, b = view.views
    assert a.canvas.axis is b.canvas.axis is view.axis
    assert a.mapTo(view, QPoint(0, 0)).y() < b.mapTo(view, QPoint(0, 0)).y()  # stacked, first on top
    before = (b.canvas.axis.t0, b.canvas.axis.t1)
    area = a.canvas.data_rect()
    _wheel(a.canvas, area.left() + area.width() / 2, 3)
    after = (b.canvas.axis.t0, b.canvas.axis.t1)
    assert after != before and after[1] - after[0] < (before[1] - before[0]) * 0.6
    # Both canvases draw that window: the same ms lands at the same x in both.
    t = (after[0] + after[1]) / 2
    assert math.isclose(a.canvas.t_of(a.canvas.data_rect().center().x()), t, rel_tol=1e-6)
    assert math.isclose(b.canvas.t_of(b.canvas.data_rect().center().x()), t, rel_tol=1e-6)
    # Double click fits every run, the longest whole.
    qtbot.mouseDClick(b.canvas, Qt.MouseButton.LeftButton, pos=b.canvas.rect().center())
    longest = max(v.model.span_ms for v in view.views)
    assert view.axis.t0 == 0 and view.axis.t1 >= longest
    # The stats side by side: the twin's wall time is "better" (lower), in green words.
    wall_row = [m.key for m in view.comparison.metrics].index("wall")
    assert "better" in view.table.item(wall_row, 1).text()
    # The charts overlay both runs, on one bucket size.
    view.tabs.setCurrentIndex(1)
    assert view.charts.labels == ["fanout-sequential", "fanout-gather"]
    assert len({s.bucket_ms for s in view.charts.series}) == 1
    colours = _painted_colours(view.charts)
    assert {"#1565c0", "#c62828"} <= colours  # one colour per run, both drawn
    view.close()


def test_a_demo_without_a_twin_has_the_button_disabled(window) -> None:
    assert window.catalogue.select("async-sleep")
    assert not _twin_button(window).isEnabled()
    assert window.catalogue.select("orm-n-plus-one")
    assert _twin_button(window).isEnabled()


def test_charts_tab_shows_the_finished_runs_numbers(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "async-sleep", 10, 5, delay=0.2)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    window.view_tabs.setCurrentIndex(2)
    charts = window.run_view.charts
    assert charts.isVisible() and charts.records == [window.record]
    expected = time_series(window.record)
    assert [b.completed for b in charts.series[0].buckets] == [b.completed for b in expected.buckets]
    assert sum(b.completed for b in charts.series[0].buckets) == 10
    # Hovering a bucket tells its numbers.
    area = charts.panels()["rps"]
    busiest = max(range(len(expected.buckets)), key=lambda i: expected.buckets[i].completed)
    b = expected.buckets[busiest]
    x = area.left() + 58 + ((b.start_ms + b.end_ms) / 2) / expected.span_ms * (area.width() - 64)
    tip = charts.tooltip_at(x, area.center().y())
    colours = _painted_colours(charts)
    assert {"#1565c0", "#6a1b9a", "#455a64"} <= colours  # requests/s, in flight, histogram bars
    assert f"{b.completed} completed" in tip
    window.view_tabs.setCurrentIndex(0)
    assert window.canvas.isVisible()


def test_loops_preset_runs_asyncio_and_qasync_in_child_processes(window, gui_lab, qtbot, monkeypatch) -> None:
    """The Compare menu's loop preset: hello here on the qt loop, then in two child ``main.py run
    --loop … --record`` processes, their run files loaded into one comparison."""
    import engine.presets

    _, loop = gui_lab
    monkeypatch.setattr(engine.presets, "LOOP_LOAD", {"concurrency": 10, "requests": 60})  # a small full load
    action = window.preset_actions["loops"]
    call_in_loop(loop, action.trigger)
    assert run_until(loop, lambda: window.series_task is not None and window.series_task.done(), 180)
    view = window.series_task.result()
    assert view is not None
    qtbot.addWidget(view)
    runs = view.comparison.runs
    assert [r.label for r in runs] == ["hello (qt)", "hello (asyncio)", "hello (qasync)"]
    assert [r.record.loop for r in runs] == ["qt", "asyncio", "qasync"]
    assert all(r.stats.completed == 60 and r.stats.errors == 0 for r in runs)
    assert runs[0].record is window.record  # the qt run is the window's own
    assert len(view.views) == 3 and len({id(v.canvas.axis) for v in view.views}) == 1
    assert not window.controller.busy and window.run_action.isEnabled()
    view.close()


def test_two_runs_ticked_in_the_history_picker_are_compared(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    for target in ("async-sleep", "blocking-sleep"):
        _configure(window, target, 4, 4, delay=0.1)
        assert call_in_loop(loop, window.start_run)
        assert run_until(loop, lambda: window.run_task.done(), 60)
    assert run_until(loop, lambda: window.history.pending == 0, 30)
    picker = call_in_loop(loop, lambda: compare_menu.pick_history_runs(window))
    assert picker is not None and picker.isVisible()
    ok = picker.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # nothing ticked yet
    newest = [picker.list.item(i) for i in range(2)]  # the list is newest first
    for item in newest:
        item.setCheckState(Qt.CheckState.Checked)
    assert ok.isEnabled()
    before = len(window.compare_windows)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert len(window.compare_windows) == before + 1
    view = window.compare_windows[-1]
    qtbot.addWidget(view)
    assert sorted(r.record.config.target for r in view.comparison.runs) == ["async-sleep", "blocking-sleep"]
    view.close()
    assert view not in window.compare_windows  # a closed comparison lets its runs go


def test_stop_during_the_twin_run_compares_what_was_done(window, gui_lab, qtbot) -> None:
    lab, loop = gui_lab
    _configure(window, "orm-n-plus-one", 200, 5, rows=4)  # its twin gets the same load
    call_in_loop(loop, lambda: qtbot.mouseClick(_twin_button(window), Qt.MouseButton.LeftButton))
    assert run_until(
        loop,
        lambda: lab.running and window.record is not None and window.record.config.target == "orm-select-related",
        120,
        interval=0,
    )
    assert window.controller.busy
    call_in_loop(loop, window.stop_action.trigger)
    assert run_until(loop, lambda: window.series_task.done(), 60)
    view = window.series_task.result()
    assert view is not None
    qtbot.addWidget(view)
    first, second = (r.record for r in view.comparison.runs)
    assert (first.config.target, second.config.target) == ("orm-n-plus-one", "orm-select-related")
    assert not first.stopped and len(first.client) == 200
    assert second.stopped and len(second.client) < 200
    assert not window.controller.busy and window.run_action.isEnabled()
    view.close()
