"""The main window: catalogue, run controls, timeline, stats; one run at a time on the shared loop.

The window never owns run data: a run's ``RunRecord`` (from ``Lab.run``) is the model,
``TimelineModel`` derives drawable geometry from it, and the widgets paint that.  While a
run is going a QTimer refreshes at most 30 times a second, and slower if refreshing
costs more than a tenth of the time, so the GUI cannot distort what it measures.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from embedded_site.tracing.heartbeat import HEARTBEAT_PERIOD_S
from engine.config import ConfigError, RunConfig
from engine.lab import Lab, versions
from engine.record import RunRecord
from engine.stats import RunStats, compute

from . import exporting, help_text, theme
from .catalogue_panel import CataloguePanel, Target
from .controls import RunControls
from .geometry import gc_paused
from .history import RunHistory
from .stats_panel import StatsPanel
from .time_axis import TimeAxis
from .timeline_model import TimelineModel
from .timeline_view import REQUESTS, THREADS, Legend, LoopStrip, TimelineCanvas

ORGANISATION, APPLICATION = "DjangoAsyncExplorer", "Explorer"
FRAME_MS = 33  # ≤ 30 fps
GUI_SHARE = 0.05  # refreshing may use at most this share of the loop's time
FREEZE_WARN_S = 0.5
LIVE_GROWTH = 1.25  # without a planned length, a live run's view is this much longer than the run
PROGRESS_S = 0.25  # the progress text changes at most this often (each change lays out the toolbar)
FINISH_SLICE_S = 0.008  # building a finished model: at most this long between two frames


class MainWindow(QMainWindow):
    run_finished = Signal(object)  # RunRecord

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.setWindowTitle("Django Async Explorer")
        self.record: RunRecord | None = None
        self.model: TimelineModel | None = None
        self.stats: RunStats | None = None
        self.run_task: asyncio.Task[RunRecord | None] | None = None
        self._run_started = 0.0
        self._progress_shown = 0.0
        self.settings = QSettings(ORGANISATION, APPLICATION)

        self.catalogue = CataloguePanel()
        self.history = RunHistory()
        self.controls = RunControls()
        self.axis = TimeAxis()
        self.canvas = TimelineCanvas(self.axis)
        self.strip = LoopStrip(self.axis, self.canvas)
        self.stats_panel = StatsPanel()
        self.banner = QLabel(wordWrap=True)
        self.banner.setStyleSheet(theme.BANNER_STYLE)
        self.banner.hide()
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(theme.ERROR_STYLE)
        self.error.hide()
        self.progress = QLabel("")
        self.progress.setMinimumWidth(200)
        self.view_tabs = QTabBar()
        self.view_tabs.addTab("Requests")
        self.view_tabs.addTab("Threads")
        self.view_tabs.setToolTip("Requests: one bar per request. Threads: one lane per server thread.")

        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

        self.catalogue.selected.connect(self._on_target)
        self.controls.changed.connect(self._update_banner)
        self.view_tabs.currentChanged.connect(lambda i: self.canvas.set_mode(THREADS if i else REQUESTS))
        self.history.chosen.connect(self._show_record)
        self._restore_settings()

    # -- layout ---------------------------------------------------------------------------

    def _build_layout(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.catalogue)
        hist = QWidget()
        hl = QVBoxLayout(hist)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(QLabel("Runs this session"))
        hl.addWidget(self.history)
        left.addWidget(hist)
        left.setSizes([760, 140])
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.setSpacing(4)
        cl.addWidget(self.error)
        cl.addWidget(self.banner)
        cl.addWidget(Legend())
        cl.addWidget(self.view_tabs)
        cl.addWidget(self.canvas, 1)
        cl.addWidget(self.strip)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(centre)
        self.split.addWidget(self.stats_panel)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([380, 700, 340])
        self.stats_panel.setMinimumWidth(320)
        self.left_split = left
        self.setCentralWidget(self.split)

    def _build_actions(self) -> None:
        bar = QToolBar("Run")
        bar.setObjectName("run-toolbar")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.run_action = QAction("▶ Run", self, shortcut=QKeySequence("Ctrl+R"), toolTip="Run (Ctrl+R)")
        self.stop_action = QAction("■ Stop", self, shortcut=QKeySequence(Qt.Key.Key_Escape), toolTip="Stop (Esc)")
        self.stop_action.setEnabled(False)
        self.run_action.triggered.connect(self.start_run)
        self.stop_action.triggered.connect(self.stop_run)
        bar.addWidget(self.controls)
        bar.addAction(self.run_action)
        bar.addAction(self.stop_action)
        bar.addWidget(self.progress)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.export_actions: list[QAction] = []
        for text, file_filter, suffix, writer in exporting.EXPORTS:
            action = file_menu.addAction(text)
            action.triggered.connect(lambda _c=False, f=file_filter, s=suffix, w=writer, t=text:
                                     self._export(t, f, s, w))
            self.export_actions.append(action)
        png = file_menu.addAction("Export timeline PNG…")
        png.triggered.connect(self._export_png)
        self.export_actions.append(png)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, self.close)
        view = menu.addMenu("&View")
        view.addAction("Requests", QKeySequence("Ctrl+1"), lambda: self.view_tabs.setCurrentIndex(0))
        view.addAction("Threads", QKeySequence("Ctrl+2"), lambda: self.view_tabs.setCurrentIndex(1))
        view.addAction("Fit timeline", QKeySequence("Ctrl+0"), self.canvas.fit)
        view.addAction("Zoom in", QKeySequence.StandardKey.ZoomIn,
                       lambda: self.axis.zoom(0.5, (self.axis.t0 + self.axis.t1) / 2))
        view.addAction("Zoom out", QKeySequence.StandardKey.ZoomOut,
                       lambda: self.axis.zoom(2.0, (self.axis.t0 + self.axis.t1) / 2))
        view.addSeparator()
        view.addAction("Filter catalogue", QKeySequence.StandardKey.Find, self.catalogue.filter.setFocus)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction("What am I looking at?", QKeySequence.StandardKey.HelpContents,
                            lambda: QMessageBox.information(self, "What am I looking at?",
                                                            help_text.what_am_i_looking_at()))
        help_menu.addAction("About", lambda: QMessageBox.about(self, "About", help_text.about(
            versions(self.lab.loop_kind))))
        self._sync_export_actions()

    def _build_status_bar(self) -> None:
        found = versions(self.lab.loop_kind)
        url = self.lab.url if self.lab.server is not None else ""
        self.url_label = QLabel(f"Site: <a href='{url}/'>{url}/</a>")
        self.url_label.setToolTip("Open the embedded site's index page in your browser")
        self.url_label.linkActivated.connect(lambda link: QDesktopServices.openUrl(QUrl(link)))
        ver = (f"Django {found['django']} · Python {found['python']} · Qt {found.get('qt', '?')} · "
               f"loop: {found['loop']}")
        self.statusBar().addPermanentWidget(self.url_label)
        self.statusBar().addPermanentWidget(QLabel(ver))

    # -- selection and settings --------------------------------------------------------------

    def _on_target(self, target: Target) -> None:
        self.controls.set_target(target)
        saved = self.settings.value(f"params/{target.id}")
        if isinstance(saved, dict):
            for name, value in saved.items():
                editor = self.controls.param_editors.get(name)
                if editor is not None:
                    try:
                        editor.setValue(type(editor.value())(value))
                    except (TypeError, ValueError):
                        pass
        self.error.hide()
        self._update_banner()

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for key, splitter in (("window/split", self.split), ("window/left", self.left_split)):
            state = self.settings.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        knobs = self.settings.value("run/knobs")
        if isinstance(knobs, dict):
            self.controls.apply_settings(knobs)
        last = self.settings.value("run/target", "async-sleep")
        if not (isinstance(last, str) and self.catalogue.select(last)):
            self.catalogue.select("async-sleep")

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/split", self.split.saveState())
        self.settings.setValue("window/left", self.left_split.saveState())
        self.settings.setValue("run/knobs", self.controls.settings())
        target = self.catalogue.current
        if target is not None:
            self.settings.setValue("run/target", target.id)
            if self.controls.param_editors:
                self.settings.setValue(f"params/{target.id}", self.controls.params())
        self.settings.sync()

    # -- running -----------------------------------------------------------------------------

    def _update_banner(self) -> None:
        if self.lab.running:
            return
        try:
            config = self.controls.config()
        except ConfigError:
            self.banner.hide()
            return
        block = self.controls.loop_block_s(config)
        if block > FREEZE_WARN_S:
            self.banner.setText(
                f"⚠ This run will block the event loop for about {block:.1f} s. This window shares that loop "
                "with the server, so it will freeze too: no repaint, no Stop button, exactly like every other "
                "user of a server whose async view makes a blocking call.")
            self.banner.show()
        else:
            self.banner.hide()

    def start_run(self) -> bool:
        """Check the settings and start a run; False (with the reason shown) if it cannot start."""
        if self.lab.running or (self.run_task is not None and not self.run_task.done()):
            self.statusBar().showMessage("A run is already going; press Stop (Esc) first.", 5000)
            return False
        try:
            config = self.controls.config()
        except ConfigError as exc:
            self.show_error(str(exc))
            return False
        self.error.hide()
        self.save_settings()
        self.run_task = asyncio.get_running_loop().create_task(self._run(config), name="explorer-run")
        return True

    def show_error(self, message: str) -> None:
        self.error.setText(f"Cannot run: {message}")
        self.error.show()
        self.statusBar().showMessage(message, 8000)

    async def _run(self, config: RunConfig) -> RunRecord | None:
        self.run_action.setEnabled(False)
        self.stop_action.setEnabled(True)
        self._sync_export_actions(running=True)
        self.stats_panel.show_stats(None, "Running…")
        block = self.controls.loop_block_s(config)
        if block > FREEZE_WARN_S:
            self._update_banner()
            self.repaint()  # paint the warning now: the loop is about to be blocked
            await asyncio.sleep(0.05)
        else:
            self.banner.hide()
        record: RunRecord | None = None
        self._run_started = time.perf_counter()
        try:
            record = await self.lab.run(config, on_started=self._on_started)
        except Exception as exc:  # a failed run must not take the window down
            self.show_error(f"the run failed: {exc!r}")
        finally:
            self.timer.stop()
            self.run_action.setEnabled(True)
            self.stop_action.setEnabled(False)
        if record is not None:
            await self._finish(record, block)
        self._sync_export_actions()
        self.run_finished.emit(record)
        return record

    def _on_started(self, record: RunRecord) -> None:
        self.record = record
        self.model = TimelineModel(record)
        self.canvas.set_model(self.model)
        self.strip.set_model(self.model)
        self.axis.fit(max(100.0, (record.config.planned_duration_s or 0) * 1000))
        self.timer.start(FRAME_MS)

    def _tick(self) -> None:
        """Refresh the live model and repaint; slow down if that costs more than GUI_SHARE."""
        if self.model is None:
            return
        t = time.perf_counter()
        self.model.refresh()
        if self.axis.follow:
            planned = (self.record.config.planned_duration_s or 0) * 1000 if self.record else 0
            span = max(self.model.span_ms, planned, 100.0)
            # Without a planned length the window grows in steps, not every frame: an unchanged
            # axis lets the canvas add only the new bars to what it drew (a full redraw costs more).
            if planned or span * 1.02 > self.axis.t1 or self.axis.t0 != 0.0:
                self.axis.fit(span if planned else span * LIVE_GROWTH)
        # One synchronous paint of both widgets (and whatever else is dirty), not one each.
        self.strip.update()
        self.canvas.repaint()
        if t - self._progress_shown >= PROGRESS_S:
            self._progress_shown = t
            done, total = self.lab.progress
            elapsed = t - self._run_started
            self.progress.setText(f"  {done} / {total if total is not None else '…'} requests · {elapsed:.1f} s")
        cost_ms = (time.perf_counter() - t) * 1000
        self.timer.setInterval(int(max(FRAME_MS, min(1000, cost_ms / GUI_SHARE))))

    async def _finish(self, record: RunRecord, predicted_block_s: float) -> None:
        # Let the heartbeat's last sample land before anything takes time: a sleep that began
        # while the run was recorded is still counted when it wakes (the lag is the run's).
        await asyncio.sleep(2 * HEARTBEAT_PERIOD_S)
        self.progress.setText("  building the timeline…")
        self.stats = compute(record)
        self.history.add(record, self.stats)
        # The finished model is built in slices between frames: the live picture stays up and
        # the window (and the server on the same loop) keeps answering meanwhile.
        # The live model goes on to the end of the same derivation: its settled bars are the final ones.
        model = self.model if self.model is not None and self.model.record is record else TimelineModel(record)
        with gc_paused():
            gc.collect()  # the run's cyclic garbage, once: its full collections were held back
        steps = model.finish_steps()
        done = False
        while not done:
            deadline = time.perf_counter() + FINISH_SLICE_S
            with gc_paused():
                while time.perf_counter() < deadline:
                    if next(steps, StopIteration) is StopIteration:
                        done = True
                        break
            if not done:
                await asyncio.sleep(0)
        self._show_record(record, self.stats, model)
        done, total = len([c for c in record.client if c.done_ns]), len(record.client)
        self.progress.setText(f"  {done} / {total} requests · {self.stats.wall_s:.2f} s"
                              + (" · stopped" if record.stopped else ""))
        blocked_s = self.stats.blocked_ms / 1000
        if predicted_block_s > FREEZE_WARN_S or blocked_s > FREEZE_WARN_S:
            self.banner.setText(f"The window was frozen for {blocked_s:.2f} s — this is what your other users "
                                "felt. (Red shading below: where the event loop was blocked.)")
            self.banner.show()

    def _show_record(self, record: RunRecord, stats: RunStats | None = None,
                     model: TimelineModel | None = None) -> None:
        self.record = record
        self.model = model if model is not None else TimelineModel.of_finished(record)
        self.stats = stats or compute(record)
        self.canvas.set_model(self.model)
        self.strip.set_model(self.model)
        self.axis.fit(self.model.span_ms)
        note = "Stopped: the record is partial." if record.stopped else ""
        note += "\n".join(record.notes)
        self.stats_panel.show_stats(self.stats, note)
        self._sync_export_actions()

    def stop_run(self) -> None:
        if self.lab.running:
            self.lab.stop_run()
            self.statusBar().showMessage("Stopping…", 3000)

    async def wait_idle(self) -> None:
        """Stop a run in progress and wait for its task (used when the window closes)."""
        self.timer.stop()
        self.stop_run()
        if self.run_task is not None and not self.run_task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.run_task), 15)
            except (TimeoutError, asyncio.CancelledError):
                self.run_task.cancel()
                await asyncio.gather(self.run_task, return_exceptions=True)

    # -- export ------------------------------------------------------------------------------

    def _sync_export_actions(self, running: bool = False) -> None:
        for action in getattr(self, "export_actions", []):
            action.setEnabled(self.record is not None and not running)

    def _export(self, title: str, file_filter: str, suffix: str, writer: Any) -> None:
        if self.record is None:
            return
        path = exporting.ask_path(self, title, file_filter, exporting.default_name(self.record, suffix))
        if path is not None:
            self.statusBar().showMessage(f"Wrote {writer(self.record, path)}", 6000)

    def _export_png(self) -> None:
        if self.record is None:
            return
        path = exporting.ask_path(self, "Export timeline PNG", "PNG (*.png)",
                                  exporting.default_name(self.record, ".png"))
        if path is not None:
            self.timeline_pixmap().save(str(path))
            self.statusBar().showMessage(f"Wrote {path}", 6000)

    def timeline_pixmap(self) -> Any:
        return self.canvas.parentWidget().grab()

    # -- closing -------------------------------------------------------------------------------

    closed = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.save_settings()
        self.timer.stop()
        self.stop_run()
        event.accept()
        self.closed.emit()

