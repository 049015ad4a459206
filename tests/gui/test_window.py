"""The window against a real embedded site on the same Qt-driven loop (offscreen platform)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from engine.phases import AWAIT, VIEW

from .conftest import call_in_loop, run_until

ROOT = Path(__file__).resolve().parents[2]


def _configure(window, target: str, requests: int, concurrency: int, **params: float) -> None:
    assert window.catalogue.select(target)
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.open_loop.setChecked(False)
    window.controls.requests.setValue(requests)
    window.controls.concurrency.setValue(concurrency)
    for name, value in params.items():
        window.controls.param_editors[name].setValue(value)


def test_window_opens_with_the_server_serving(window, gui_lab) -> None:
    lab, loop = gui_lab
    assert window.windowTitle() == "Django Async Explorer"

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            return await client.get(lab.url + "/")

    assert loop.run_until_complete(get()).status_code == 200
    assert lab.url in window.url_label.text()


def test_selecting_a_demo_shows_its_source_and_parameters(window) -> None:
    assert window.catalogue.select("async-sleep")
    assert "asyncio.sleep" in window.catalogue.source.toPlainText()
    assert "event loop" in window.catalogue.lesson.text()
    assert "delay" in window.controls.param_editors


def test_filter_hides_what_does_not_match(window) -> None:
    window.catalogue.filter.setText("blocking")
    tree = window.catalogue.tree
    visible = [
        tree.topLevelItem(i).child(j).data(0, 256)
        for i in range(tree.topLevelItemCount())
        for j in range(tree.topLevelItem(i).childCount())
        if not tree.topLevelItem(i).child(j).isHidden()
    ]
    assert "one-blocking-call" in visible and "async-sleep" not in visible


def test_a_run_of_20_requests_gives_20_bars_with_view_and_await(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "async-sleep", 20, 20, delay=0.2)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    model = window.model
    assert model.complete and len(model.bars) == 20
    assert model.rows >= 15  # they overlapped
    for bar in model.bars:
        assert bar.status == 200 and not bar.failed
        assert {VIEW, AWAIT} <= {p.phase for p in bar.phases}
    assert window.stats is not None and window.stats.completed == 20
    assert window.stats_panel.verdict.text()
    assert window.history.count() >= 1
    tip = hover(window.canvas, *_point_on_bar(window))
    assert "request #" in tip and "await" in tip


def hover(widget, x: float, y: float) -> str:
    """Rest the mouse at (x, y) as Qt does: a real ToolTip QHelpEvent through ``event()``;
    returns the tooltip then shown ('' if none)."""
    QToolTip.hideText()  # hides after a short delay: wait for it, so a stale tip is not read
    deadline = time.monotonic() + 5
    while QToolTip.isVisible() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    pos = QPoint(int(x), int(y))
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def _point_on_bar(window, index: int = 0) -> tuple[float, float]:
    canvas = window.canvas
    bar = window.model.bars[index]
    area = canvas.data_rect()
    t = window.model.ms((bar.start_ns + bar.end_ns) // 2)
    x = area.left() + (t - canvas.axis.t0) / canvas.axis.span * area.width()
    y = area.top() + (bar.row + 0.4) * canvas.row_height()
    return x, y


def test_live_timeline_grows_during_the_run(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "async-sleep", 30, 5, delay=0.15)
    assert call_in_loop(loop, window.start_run)
    assert run_until(
        loop, lambda: window.model is not None and not window.model.complete and 0 < len(window.model.bars) < 30, 30
    )
    assert window.timer.isActive()
    assert run_until(loop, lambda: window.run_task.done(), 60)
    assert not window.timer.isActive()  # repaint timer only while running
    assert len(window.model.bars) == 30


def test_stop_mid_run_leaves_a_valid_partial_record(window, gui_lab) -> None:
    lab, loop = gui_lab
    _configure(window, "async-sleep", 40, 4, delay=0.5)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: lab.running and lab.progress[0] >= 4, 30)
    window.stop_action.trigger()
    assert run_until(loop, lambda: window.run_task.done(), 30)
    record = window.record
    assert record.stopped and record.finished
    assert 4 <= len(window.model.bars) < 40
    assert window.stats.completed < 40
    assert "Stopped" in window.stats_panel.verdict.text()
    assert window.run_action.isEnabled() and not window.stop_action.isEnabled()


def test_a_bad_setting_shows_a_message_and_does_not_start(window, gui_lab) -> None:
    lab, loop = gui_lab
    _configure(window, "async-sleep", 0, 5)
    assert call_in_loop(loop, window.start_run) is False
    assert window.error.isVisible()
    assert "requests must be between 1 and" in window.error.text()
    assert window.run_task is None and not lab.running
    assert window.controls.requests.value() == 0  # nothing lost: the field keeps what was typed


def test_blocking_demo_warns_before_the_run(window) -> None:
    _configure(window, "blocking-sleep", 3, 3, delay=0.4)
    assert window.banner.isVisible()
    assert "1.2 s" in window.banner.text()
    _configure(window, "async-sleep", 3, 3, delay=0.4)
    assert not window.banner.isVisible()


def test_threads_view_puts_the_event_loop_first(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "sync-sleep", 5, 5, delay=0.1)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    window.view_tabs.setCurrentIndex(1)
    model = window.model
    assert window.canvas.mode == "threads"
    assert model.lane_labels[0].startswith("event loop")
    assert len(model.lane_ids) >= 2
    assert not window.canvas.grab().isNull()


def test_closing_the_window_mid_run_exits_cleanly(tmp_path) -> None:
    """The real entry point in a child process: start a run, close the window while it goes."""
    script = textwrap.dedent("""
        import sys, threading
        sys.path.insert(0, sys.argv[1])
        from PySide6.QtCore import QTimer
        import gui.window as w

        shown = w.MainWindow.show

        def show(self):
            shown(self)
            self.catalogue.select("async-sleep")
            self.controls.amount_kind.setCurrentText("requests")
            self.controls.requests.setValue(50)
            self.controls.concurrency.setValue(5)
            self.controls.param_editors["delay"].setValue(1.0)
            QTimer.singleShot(300, self.start_run)
            QTimer.singleShot(1500, lambda: (print("running:", self.lab.running, flush=True), self.close()))

        w.MainWindow.show = show
        from gui.app import main
        code = main([])
        left = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
        print("exit", code, "threads", left, flush=True)
        sys.exit(code)
    """)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path),
        "HOME": str(tmp_path),
        "PYTHONDEVMODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=90, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "running: True" in done.stdout
    assert "exit 0 threads []" in done.stdout, done.stdout + done.stderr[-2000:]
    for bad in ("Task was destroyed", "was never awaited", "Traceback", "Unclosed"):
        assert bad not in done.stderr, done.stderr[-3000:]
