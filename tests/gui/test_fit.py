"""The window fits the screen it opens on, stays usable small, and says so where a field is wrong.

The first-launch tests start the real entry point (``gui.app.main``) in a child process on
Qt's offscreen platform given a screen of a chosen size, with an empty settings directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QToolBar

from .conftest import call_in_loop, run_until
from .test_window import _configure

ROOT = Path(__file__).resolve().parents[2]

FIRST_LAUNCH = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from PySide6.QtCore import QTimer
    import gui.window as w

    shown = w.MainWindow.show

    def show(self):
        shown(self)

        def report():
            g, f = self.geometry(), self.frameGeometry()
            a = self.screen().availableGeometry()
            bar = self.statusBar()
            print("geometry", json.dumps({
                "window": [g.x(), g.y(), g.width(), g.height()],
                "frame": [f.x(), f.y(), f.width(), f.height()],
                "available": [a.x(), a.y(), a.width(), a.height()],
                "status_bar_bottom": bar.mapTo(self, bar.rect().bottomLeft()).y(),
                "strip_visible": self.strip.isVisible() and self.strip.visibleRegion().boundingRect().height(),
            }), flush=True)
            self.close()

        QTimer.singleShot(300, report)

    w.MainWindow.show = show
    from gui.app import main
    sys.exit(main([]))
""")


def _first_launch(tmp_path: Path, width: int, height: int) -> dict:
    screen = tmp_path / "screen.json"
    screen.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "test",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
        "XDG_CONFIG_HOME": str(tmp_path),
        "HOME": str(tmp_path),
        "EXPLORER_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", FIRST_LAUNCH, str(ROOT)], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("geometry "))
    return json.loads(line.removeprefix("geometry "))


def _inside(inner: list[int], outer: list[int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000)])
def test_first_launch_fits_the_available_screen(tmp_path, size) -> None:
    got = _first_launch(tmp_path, *size)
    assert _inside(got["frame"], got["available"]), got
    assert _inside(got["window"], got["available"]), got
    assert got["status_bar_bottom"] <= got["window"][3], got  # the status bar is on screen
    assert got["strip_visible"] > 50, got
    if size == (1600, 1000):
        assert got["window"][2:] == [1400, 900]  # room for the default size: it is used


def test_usable_at_1024_by_640(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    for target in window.catalogue.targets:  # the widest toolbar of all the demos still fits
        window.catalogue.select(target)
        assert window.minimumSizeHint().width() <= 1024, target
        assert window.minimumSizeHint().height() <= 640, target
    _configure(window, "orm-n-plus-one", 2, 2, rows=3)
    window.resize(1024, 640)
    QApplication.processEvents()
    assert (window.width(), window.height()) == (1024, 640)
    toolbar = window.findChild(QToolBar, "run-toolbar")
    run_button = toolbar.widgetForAction(window.run_action)
    assert run_button.isVisible() and run_button.mapTo(window, run_button.rect().bottomRight()).x() <= 1024
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    bar = window.model.bars[0]
    window.select_request((bar.client_id, None))
    QApplication.processEvents()
    # With the details pane open, the timeline, the strip and the status bar are all in view.
    for widget in (window.canvas, window.strip, window.details, window.statusBar(), window.stats_panel):
        assert widget.isVisible(), widget
        bottom = widget.mapTo(window, widget.rect().bottomRight())
        assert bottom.y() <= window.height() and bottom.x() <= window.width(), widget
    assert window.canvas.height() >= 120
    # Nothing drawn over anything: the canvas ends above the strip, the strip above the pane.
    canvas_bottom = window.canvas.mapTo(window, window.canvas.rect().bottomLeft()).y()
    strip_top = window.strip.mapTo(window, window.strip.rect().topLeft()).y()
    strip_bottom = window.strip.mapTo(window, window.strip.rect().bottomLeft()).y()
    assert (
        canvas_bottom < strip_top and strip_bottom < window.details.mapTo(window, window.details.rect().topLeft()).y()
    )
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 640


def test_the_lesson_scrolls_and_source_lines_are_never_wrapped(window) -> None:
    window.resize(1024, 640)
    window.left_split.setSizes([400, 100])
    window.catalogue.split.setSizes([200, 60, 140])
    QApplication.processEvents()
    cat = window.catalogue
    longest = max(cat.targets.values(), key=lambda t: len(t.demo.lesson) if t.demo else 0)
    assert cat.select(longest.id)
    QApplication.processEvents()
    lesson = cat.lesson
    assert lesson.height() >= lesson.heightForWidth(lesson.width())  # all of it laid out, none clipped
    assert cat.lesson_scroll.verticalScrollBar().maximum() > 0  # and the area scrolls to it
    source = cat.source
    assert source.document().lineCount() == source.document().blockCount()  # one line per source line
    widest = max(cat.targets.values(), key=lambda t: max(map(len, t.demo.source.splitlines())) if t.demo else 0)
    assert cat.select(widest.id)
    QApplication.processEvents()
    assert source.horizontalScrollBar().maximum() > 0


def test_an_out_of_range_parameter_is_flagged_where_it_is_typed(window, gui_lab, qtbot) -> None:
    lab, loop = gui_lab
    _configure(window, "orm-n-plus-one", 2, 2)
    editor = window.controls.param_editors["rows"]
    flag = window.controls.param_flags["rows"]
    assert not flag.isVisible()
    rows = next(p for p in window.catalogue.current.demo.params if p.name == "rows")
    too_many = rows.maximum * 10
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor.lineEdit(), str(too_many))
    editor.interpretText()
    assert editor.value() == too_many  # kept as typed, not clamped to the maximum
    assert flag.isVisible() and f"allowed {rows.minimum}–{rows.maximum}" in flag.text()
    assert "fde2e1" in editor.styleSheet()
    assert call_in_loop(loop, window.start_run) is False
    assert window.error.isVisible() and f"rows must be between 1 and {rows.maximum}" in window.error.text()
    assert f"got {too_many}" in window.error.text() and not lab.running
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor.lineEdit(), "20")
    editor.interpretText()
    assert not flag.isVisible() and editor.styleSheet() == ""
    assert not window.error.isVisible()


def _click_later(qtbot, window, pick) -> None:
    """Click a button of the freeze question once it is up, as a user would."""

    def click() -> None:
        box = window.freeze_box
        if box is None or not box.isVisible():
            QTimer.singleShot(50, click)
            return
        qtbot.mouseClick(pick(box), Qt.MouseButton.LeftButton)

    QTimer.singleShot(100, click)


def test_a_long_predicted_freeze_asks_first(window, gui_lab, qtbot) -> None:
    lab, loop = gui_lab
    _configure(window, "blocking-sleep", 30, 1, delay=0.5)  # 15 s of blocked loop predicted
    _click_later(qtbot, window, lambda box: box.button(QMessageBox.StandardButton.Cancel))
    assert call_in_loop(loop, window.start_run) is False
    assert window.freeze_box is not None and "15 s" in window.freeze_box.text()
    assert run_until(loop, lambda: window.freeze_box is None, 20)
    assert window.run_task is None and not lab.running  # cancelled: nothing ran

    _click_later(qtbot, window, lambda box: next(b for b in box.buttons() if "Run and freeze" in b.text()))
    assert call_in_loop(loop, window.start_run) is False  # not yet: the question is up
    assert run_until(loop, lambda: lab.running, 30)
    window.stop_run()  # the first request still blocks; Stop ends the run after it
    assert run_until(loop, lambda: window.run_task.done(), 60)
    assert window.record.stopped and len(window.record.client) < 30


def test_a_short_freeze_is_not_asked_about(window, gui_lab) -> None:
    lab, loop = gui_lab
    _configure(window, "blocking-sleep", 2, 2, delay=0.2)
    assert call_in_loop(loop, window.start_run)
    assert window.freeze_box is None
    assert run_until(loop, lambda: window.run_task.done(), 60)
