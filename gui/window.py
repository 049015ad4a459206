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
    QApplication,
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
from engine.exports import EXPORTS
from engine.lab import Lab, versions
from engine.phases import SPAN_PHASE
from engine.record import RunRecord
from engine.request_detail import RequestKey, key_for_server_only, key_for_span, request_detail
from engine.stats import RunStats, compute

from . import exporting, help_text, runfile_menu, theme
from .catalogue_panel import CataloguePanel, Target
from .controls import RunControls
from .details_pane import DetailsPane
from .geometry import gc_paused
from .history_panel import HistoryPanel
from .stats_panel import StatsPanel
from .time_axis import TimeAxis
from .timeline_model import TimelineModel
from .timeline_view import REQUESTS, THREADS, Legend, LoopStrip, TimelineCanvas

ORGANISATION, APPLICATION = "DjangoAsyncExplorer", "Explorer"
FRAME_MS = 33  # ≤ 30 fps
GUI_SHARE = 0.05  # refreshing may use at most this share of the loop's time
FREEZE_WARN_S = 0.5
CANVAS_MIN_H = 140  # px: axis, a few rows and the footer
DETAILS_MIN_H = 120  # px: the summary's head and a few span rows (the rest scrolls)
CONFIRM_FREEZE_S = 10.0  # a predicted freeze longer than this is asked about first
DEFAULT_SIZE = (1400, 900)  # first launch, when the screen has room for it
FRAME_ALLOWANCE = (16, 48)  # the window manager's frame and title bar, unknown before the first show
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
        self.freeze_box: QMessageBox | None = None  # the question before a long freeze, while it is up
        self._run_started = 0.0
        self._progress_shown = 0.0
        self.settings = QSettings(ORGANISATION, APPLICATION)

        self.catalogue = CataloguePanel()
        self.history = HistoryPanel()
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
        self._error_from_settings = True
        # Which run the timeline shows: the latest, one running, or an earlier one from the list.
        self.showing = QLabel("No run yet: pick a demo and press Run.")
        self.showing.setStyleSheet("color:#555;")
        self.showing.setWordWrap(True)  # a long title must not widen the window
        self.progress.setMinimumWidth(160)
        self.view_tabs = QTabBar()
        self.view_tabs.addTab("Requests")
        self.view_tabs.addTab("Threads")
        self.view_tabs.setToolTip("Requests: one bar per request. Threads: one lane per server thread.")
        self.details = DetailsPane()
        self.details.hide()  # shown when a request is selected
        self.selection: RequestKey | None = None

        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

        self.catalogue.selected.connect(self._on_target)
        self.controls.changed.connect(self._on_controls_changed)
        self.view_tabs.currentChanged.connect(lambda i: self.canvas.set_mode(THREADS if i else REQUESTS))
        self.history.chosen.connect(self._on_history)
        self.canvas.clicked.connect(self._on_canvas_click)
        self.canvas.escape.connect(self.clear_selection)
        self._restore_settings()

    # -- layout ---------------------------------------------------------------------------

    def _build_layout(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.catalogue)
        left.addWidget(self.history)
        left.setSizes([600, 300])
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.setSpacing(4)
        cl.addWidget(self.error)
        cl.addWidget(self.banner)
        timeline = QWidget()
        tl = QVBoxLayout(timeline)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(4)
        tl.addWidget(self.showing)
        tl.addWidget(Legend())
        tl.addWidget(self.view_tabs)
        tl.addWidget(self.canvas, 1)
        tl.addWidget(self.strip)
        cl.addWidget(timeline, 1)
        self.stats_split = QSplitter(Qt.Orientation.Horizontal)
        self.timeline_column = centre
        self.stats_split.addWidget(centre)
        self.stats_split.addWidget(self.stats_panel)
        # Every column gives way when the window narrows (the timeline most), so a small window
        # keeps a usable timeline instead of a full-width catalogue and stats.
        self.stats_split.setStretchFactor(0, 3)
        self.stats_split.setStretchFactor(1, 1)
        self.stats_split.setSizes([700, 340])
        self.stats_panel.setMinimumWidth(240)
        # On a 768-pixel screen the timeline and the details pane must both fit: bars shrink first.
        self.canvas.setMinimumHeight(CANVAS_MIN_H)
        self.details.setMinimumHeight(DETAILS_MIN_H)
        # The selected request's details under the timeline and the stats, as wide as both (SQL
        # statements and span names are long); a splitter, so the user sets the share.
        self.centre_split = QSplitter(Qt.Orientation.Vertical)
        self.centre_split.addWidget(self.stats_split)
        self.centre_split.addWidget(self.details)
        self.centre_split.setStretchFactor(0, 1)
        self.centre_split.setChildrenCollapsible(False)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.centre_split)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 3)
        self.split.setSizes([380, 1040])
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
        # Run and Stop first: a toolbar narrower than its contents hides its last items.
        bar.addAction(self.run_action)
        bar.addAction(self.stop_action)
        bar.addSeparator()
        bar.addWidget(self.controls)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.export_actions: list[QAction] = []
        runfile_menu.install(self, file_menu)
        for export in EXPORTS.values():
            action = file_menu.addAction(export.menu_text)
            action.triggered.connect(
                lambda _c=False, e=export: self._export(e.menu_text, e.file_filter, e.suffix, e.write)
            )
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
        # Esc is Stop while a run goes, and clears the selection otherwise: the two actions are
        # never enabled together, so the shortcut is never ambiguous.
        self.clear_selection_action = view.addAction(
            "Clear selection", QKeySequence(Qt.Key.Key_Escape), self.clear_selection
        )
        self.clear_selection_action.setEnabled(False)
        view.addAction(
            "Zoom in", QKeySequence.StandardKey.ZoomIn, lambda: self.axis.zoom(0.5, (self.axis.t0 + self.axis.t1) / 2)
        )
        view.addAction(
            "Zoom out", QKeySequence.StandardKey.ZoomOut, lambda: self.axis.zoom(2.0, (self.axis.t0 + self.axis.t1) / 2)
        )
        view.addSeparator()
        view.addAction("Filter catalogue", QKeySequence.StandardKey.Find, self.catalogue.filter.setFocus)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(
            "What am I looking at?",
            QKeySequence.StandardKey.HelpContents,
            lambda: QMessageBox.information(self, "What am I looking at?", help_text.what_am_i_looking_at()),
        )
        help_menu.addAction(
            "About", lambda: QMessageBox.about(self, "About", help_text.about(versions(self.lab.loop_kind)))
        )
        self._sync_export_actions()

    def _build_status_bar(self) -> None:
        found = versions(self.lab.loop_kind)
        url = self.lab.url if self.lab.server is not None else ""
        self.url_label = QLabel(f"Site: <a href='{url}/'>{url}/</a>")
        self.url_label.setToolTip("Open the embedded site's index page in your browser")
        self.url_label.linkActivated.connect(lambda link: QDesktopServices.openUrl(QUrl(link)))
        ver = f"Django {found['django']} · Python {found['python']} · Qt {found.get('qt', '?')} · loop: {found['loop']}"
        # The run's progress lives here, always in view (a toolbar hides what does not fit).
        self.statusBar().addPermanentWidget(self.progress)
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
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry) and self._fits_screen()):
            self.fit_to_screen()
        splitters = (
            ("window/columns", self.split),
            ("window/stats", self.stats_split),
            ("window/left", self.left_split),
        )
        for key, splitter in splitters:
            state = self.settings.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        knobs = self.settings.value("run/knobs")
        if isinstance(knobs, dict):
            self.controls.apply_settings(knobs)
        last = self.settings.value("run/target", "async-sleep")
        if not (isinstance(last, str) and self.catalogue.select(last)):
            self.catalogue.select("async-sleep")

    def fit_to_screen(self) -> None:
        """The first-launch size: DEFAULT_SIZE where there is room, else the available screen
        (minus room for the frame), centred; never below the window's own minimum."""
        screen = self.screen() or QApplication.primaryScreen()
        avail = screen.availableGeometry()
        fw, fh = FRAME_ALLOWANCE
        w = max(self.minimumSizeHint().width(), min(DEFAULT_SIZE[0], avail.width() - fw))
        h = max(self.minimumSizeHint().height(), min(DEFAULT_SIZE[1], avail.height() - fh))
        self.resize(w, h)
        # The columns in proportion to the width: catalogue ~25 %, stats ~27 %, the timeline the rest.
        left = max(220, min(380, w * 25 // 100))
        stats = max(240, min(340, w * 27 // 100))
        self.split.setSizes([left, w - left])
        self.stats_split.setSizes([w - left - stats, stats])
        self.move(avail.x() + max(0, (avail.width() - w - fw) // 2), avail.y() + max(0, (avail.height() - h - fh) // 2))

    def _fits_screen(self) -> bool:
        screen = self.screen() or QApplication.primaryScreen()
        return screen.availableGeometry().contains(self.frameGeometry())

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/columns", self.split.saveState())
        self.settings.setValue("window/stats", self.stats_split.saveState())
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
                "user of a server whose async view makes a blocking call."
            )
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
        block = self.controls.loop_block_s(config)
        if block > CONFIRM_FREEZE_S:
            self._confirm_freeze(config, block)
            return False
        self._start(config)
        return True

    def _start(self, config: RunConfig) -> None:
        self.save_settings()
        self.run_task = asyncio.get_running_loop().create_task(self._run(config), name="explorer-run")

    def _confirm_freeze(self, config: RunConfig, block_s: float) -> None:
        """Ask before a run that will freeze the window for long; the run starts only on "Run".

        The box is window-modal but not a nested event loop (``open``, not ``exec``): the
        server shares this loop and keeps serving while the question is up."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "This run will freeze the window",
            f"This run will block the event loop for about {block_s:.0f} s. The window shares that "
            "loop, so it will not repaint or answer, and Stop will not work until the run ends.\n\n"
            "Run it anyway?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        run = box.addButton(f"Run and freeze for {block_s:.0f} s", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("freeze-confirmation")

        def answered(button: object) -> None:
            self.freeze_box = None
            if button is run:
                if self.run_task is None or self.run_task.done():
                    self._start(config)
            else:
                self.statusBar().showMessage("Not run: it would have frozen the window.", 5000)

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _result: setattr(self, "freeze_box", None))  # closed any other way
        self.freeze_box = box
        box.open()

    def show_error(self, message: str, from_settings: bool = True) -> None:
        """Show why a run cannot start (or failed); ``from_settings``: the toolbar's settings are
        the cause, so the message goes away as soon as they are fixed."""
        self._error_from_settings = from_settings
        self.error.setText(f"Cannot run: {message}")
        self.error.show()
        self.statusBar().showMessage(message, 8000)

    def _on_controls_changed(self) -> None:
        if self.error.isVisible() and self._error_from_settings:
            try:
                self.controls.config()
            except ConfigError as exc:
                self.error.setText(f"Cannot run: {exc}")  # still wrong, maybe another way
            else:
                self.error.hide()
        self._update_banner()

    async def _run(self, config: RunConfig) -> RunRecord | None:
        # Run stays disabled until the finished timeline is built: building is part of the run.
        self.run_action.setEnabled(False)
        self.stop_action.setEnabled(True)
        self._sync_export_actions(running=True)
        self.stats_panel.show_stats(None, "Running…")
        self._progress_shown = 0.0
        self.progress.setText("  starting…")  # never the previous run's numbers
        self.showing.setText(f"Running: {config.title or config.target}")
        block = self.controls.loop_block_s(config)
        if block > FREEZE_WARN_S:
            self._update_banner()
            self.progress.setText(f"  running: the window freezes for about {block:.1f} s…")
            self.repaint()  # paint the warning now: the loop is about to be blocked
            await asyncio.sleep(0.05)
        else:
            self.banner.hide()
        record: RunRecord | None = None
        self._run_started = time.perf_counter()
        try:
            try:
                record = await self.lab.run(config, on_started=self._on_started)
            except Exception as exc:  # a failed run must not take the window down
                self.show_error(f"the run failed: {exc!r}", from_settings=False)
            finally:
                self.timer.stop()
                self.stop_action.setEnabled(False)
            if record is not None:
                await self._finish(record)
        finally:
            self.run_action.setEnabled(True)
            self._sync_selection_action()
        self._sync_export_actions()
        self.run_finished.emit(record)
        return record

    def _on_started(self, record: RunRecord) -> None:
        self.clear_selection()
        self.record = record
        runfile_menu.mark(self, record)  # a live run: no "past run" left in the title
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

    async def _finish(self, record: RunRecord) -> None:
        # Let the heartbeat's last sample land before anything takes time: a sleep that began
        # while the run was recorded is still counted when it wakes (the lag is the run's).
        self.progress.setText("  building the timeline…")
        self.stats_panel.show_stats(None, "Building the timeline…")
        await asyncio.sleep(2 * HEARTBEAT_PERIOD_S)
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

    def _outcome_texts(self, record: RunRecord, stats: RunStats) -> tuple[str, str]:
        """The progress line and the banner (empty: none) that a finished run leaves up."""
        done, total = len([c for c in record.client if c.done_ns]), len(record.client)
        progress = f"  {done} / {total} requests · {stats.wall_s:.2f} s" + (" · stopped" if record.stopped else "")
        blocked_s = stats.blocked_ms / 1000
        banner = ""
        if self.controls.loop_block_s(record.config) > FREEZE_WARN_S or blocked_s > FREEZE_WARN_S:
            banner = (
                f"The window was frozen for {blocked_s:.2f} s — this is what your other users "
                "felt. (Red shading below: where the event loop was blocked.)"
            )
        return progress, banner

    def _on_history(self, record: RunRecord) -> None:
        """An earlier run picked from the list: its timeline with its own demo, settings and banner."""
        if self.run_task is not None and not self.run_task.done():
            self.statusBar().showMessage("A run is going: its timeline stays until it is done.", 5000)
            return
        if self.catalogue.current is None or self.catalogue.current.id != record.config.target:
            self.catalogue.filter.clear()
            self.catalogue.select(record.config.target)
        self.controls.apply_config(record.config)
        self._show_record(record)

    def _show_record(
        self, record: RunRecord, stats: RunStats | None = None, model: TimelineModel | None = None
    ) -> None:
        same = self.record is record
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
        progress, banner = self._outcome_texts(record, self.stats)
        self.progress.setText(progress)
        self.banner.setText(banner)
        self.banner.setVisible(bool(banner))
        self.error.hide()
        latest = self.history.latest() is record
        when = self.history.when(record)
        self.showing.setText(
            ("Showing the latest run" if latest else "⟲ Showing an EARLIER run")
            + f" ({when}): {record.config.title or record.config.target}"
            + ("" if latest else " — its own settings are back in the toolbar")
            + " · click a request to inspect it"
        )
        self.showing.setStyleSheet("" if latest else "color:#7a4b00; font-weight:600;")
        runfile_menu.mark(self, record)  # a run read back from a file or the history says so
        if same and self.selection is not None:
            self.select_request(self.selection)  # a request picked while the run was live
        else:
            self.clear_selection()

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

    # -- selection ---------------------------------------------------------------------------

    def _on_canvas_click(self, hit: object) -> None:
        """A click on the timeline: select the request under it, or clear on empty space."""
        record, model = self.record, self.model
        if record is None or model is None or hit is None:
            self.clear_selection()
            return
        key: RequestKey | None
        if isinstance(hit, tuple):
            lane, span = hit
            key = key_for_span(record, model.lane_ids[lane], span.start_ns, span.end_ns)
        elif hit.client_id is not None:
            key = (hit.client_id, None)
        else:
            key = key_for_server_only(record, hit.start_ns, hit.path)
        if key is None:
            self.clear_selection()
        else:
            self.select_request(key)

    def select_request(self, key: RequestKey) -> bool:
        """Show one request of the shown run in the details pane and outline it in both views."""
        detail = request_detail(self.record, *key) if self.record is not None else None
        if detail is None:
            self.clear_selection()
            return False
        self.selection = key
        if not self.details.isVisible():
            self.details.show()
            total = sum(self.centre_split.sizes()) or self.centre_split.height()
            # What the timeline column needs at its width (wrapped lines included), so opening
            # the pane never squeezes the timeline under its strip.
            column = self.timeline_column
            need = column.layout().minimumHeightForWidth(column.width())
            top = max(self.stats_split.minimumSizeHint().height(), need, total * 3 // 5)
            self.centre_split.setSizes([top, max(0, total - top)])
        self.details.show_detail(detail)  # once shown: its columns are sized to its real width
        self._sync_highlight(detail)
        self._sync_selection_action()
        return True

    def clear_selection(self) -> None:
        self.selection = None
        self.details.show_detail(None)
        self.details.hide()
        self.canvas.set_highlight([], [])
        self._sync_selection_action()

    def _sync_selection_action(self) -> None:
        self.clear_selection_action.setEnabled(self.selection is not None and not self.lab.running)

    def _sync_highlight(self, detail: Any) -> None:
        """Where the selected request is drawn: its bar (requests view), its spans (threads view)."""
        model = self.model
        if model is None:
            self.canvas.set_highlight([], [])
            return
        bars = []
        root = detail.spans[0] if detail.spans else None
        for bar in (*model.bars, *model.live_bars):
            if (
                bar.client_id == detail.client_id
                if detail.client_id is not None
                else bar.client_id is None and root is not None and bar.start_ns == root.start_ns
            ):
                bars.append((bar.row, model.ms(bar.start_ns), model.ms(bar.end_ns)))
                break
        lane_of = {tid: i for i, tid in enumerate(model.lane_ids)}
        loop_tid = self.record.loop_thread_id if self.record is not None else None
        spans = []
        for node in root.walk()[1:] if root is not None else []:
            lane = lane_of.get(node.thread_id)
            if lane is None or node.kind not in SPAN_PHASE:  # request-level phases have no lane
                continue
            if node.kind == "hop-wait" and node.thread_id != loop_tid:
                continue
            spans.append((lane, model.ms(node.start_ns), model.ms(node.end_ns)))
        self.canvas.set_highlight(bars, spans)

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
        path = exporting.ask_path(
            self, "Export timeline PNG", "PNG (*.png)", exporting.default_name(self.record, ".png")
        )
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
