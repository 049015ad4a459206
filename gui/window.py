"""The main window: catalogue, run controls, the run's picture and the menus, laid out.

The window never owns run data and never runs a run: a run's ``RunRecord`` (from ``Lab.run``)
is the model, ``gui.run_view.RunView`` draws it, and ``gui.controller.RunController`` starts,
paces and finishes it. What is left here is layout, settings and the questions asked before a
run starts.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
)

from embedded_site.demos.markup import plain
from engine.config import ConfigError, RunConfig
from engine.exports import EXPORTS
from engine.lab import Lab, versions
from engine.record import RunRecord
from engine.request_detail import RequestKey
from engine.stats import RunStats

from . import (
    compare_menu,
    compare_with,
    database_menu,
    exporting,
    help_text,
    playground,
    project_mode,
    runfile_menu,
    scenario_editor,
    server_menu,
    theme,
)
from .catalogue_panel import CataloguePanel, Target
from .controller import FREEZE_WARN_S, RunController
from .controls import RunControls
from .history_panel import HistoryPanel
from .run_view import RunView
from .timeline_model import TimelineModel

ORGANISATION, APPLICATION = "DjangoAsyncExplorer", "Explorer"
CONFIRM_FREEZE_S = 10.0  # a predicted freeze longer than this is asked about first
DEFAULT_SIZE = (1400, 900)  # first launch, when the screen has room for it
FRAME_ALLOWANCE = (16, 48)  # the window manager's frame and title bar, unknown before the first show


class MainWindow(QMainWindow):
    """Lays out the catalogue, the toolbar, the run's picture (a ``RunView``) and the menus; the
    ``RunController`` runs the runs. The attributes below the picture's (``record``, ``model``,
    ``canvas``…) read through to the view, so callers see one window."""

    run_finished = Signal(object)  # RunRecord

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.setWindowTitle("Django Async Explorer")
        self.freeze_box: QMessageBox | None = None  # the question before a long freeze, while it is up
        self.settings = QSettings(ORGANISATION, APPLICATION)

        self.catalogue = CataloguePanel()
        self.history = HistoryPanel()
        self.controls = RunControls()
        self.run_view = RunView()
        self.controller = RunController(lab, self.run_view, self)
        self.banner = QLabel(wordWrap=True)
        self.banner.setStyleSheet(theme.BANNER_STYLE)
        self.banner.hide()
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(theme.ERROR_STYLE)
        self.error.hide()
        self.progress = QLabel("")
        self.progress.setMinimumWidth(160)
        self._error_from_settings = True

        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        compare_menu.install(self)  # the Compare menu and the toolbar's "Compare with twin"
        compare_with.install(self)  # Compare → "Compare with…", "Compare with its last run"

        self.catalogue.selected.connect(self._on_target)
        self.controls.changed.connect(self._on_controls_changed)
        self.history.chosen.connect(self._on_history)
        self.run_view.selection_changed.connect(lambda _key: self._sync_selection_action())
        self.controller.starting.connect(self._on_starting)
        self.controller.started.connect(self._on_live_run)
        self.controller.progress.connect(self.progress.setText)
        self.controller.measured.connect(self.history.add)
        self.controller.built.connect(self._show_record)
        self.controller.failed.connect(lambda message: self.show_error(message, from_settings=False))
        self.controller.run_over.connect(lambda: self.stop_action.setEnabled(False))
        self.controller.finished.connect(self._on_run_finished)
        playground.install(self)
        scenario_editor.install(self)
        self._restore_settings()

    # -- the shown run, as the view has it -------------------------------------------------

    record = property(lambda self: self.run_view.record)
    model = property(lambda self: self.run_view.model)
    stats = property(lambda self: self.run_view.stats)
    selection = property(lambda self: self.run_view.selection)
    axis = property(lambda self: self.run_view.axis)
    canvas = property(lambda self: self.run_view.canvas)
    strip = property(lambda self: self.run_view.strip)
    details = property(lambda self: self.run_view.details)
    showing = property(lambda self: self.run_view.showing)
    view_tabs = property(lambda self: self.run_view.view_tabs)
    stats_panel = property(lambda self: self.run_view.stats_panel)
    stats_split = property(lambda self: self.run_view.stats_split)
    centre_split = property(lambda self: self.run_view.centre_split)
    timeline_column = property(lambda self: self.run_view.timeline_column)
    run_task = property(lambda self: self.controller.task)
    timer = property(lambda self: self.controller.timer)
    _tick = property(lambda self: self.controller.tick)

    # -- layout ---------------------------------------------------------------------------

    def _build_layout(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.catalogue)
        left.addWidget(self.history)
        left.setSizes([600, 300])
        self.run_view.add_header(self.error)
        self.run_view.add_header(self.banner)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.run_view)
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
        file_menu = self.file_menu = menu.addMenu("&File")
        self.export_actions: list[QAction] = []
        runfile_menu.install(self, file_menu)
        for export in EXPORTS.values():
            action = file_menu.addAction(export.menu_text)
            action.triggered.connect(
                lambda _c=False, e=export: self._export(e.menu_text, e.file_filter, e.suffix, e.write)
            )
            self.export_actions.append(action)
        png = file_menu.addAction("Export timeline as shown (PNG)…")
        png.triggered.connect(self._export_png)
        self.export_actions.append(png)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, self.close)
        view = self.view_menu = menu.addMenu("&View")
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
        database_menu.install(self)
        server_menu.install(self)
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
        project_mode.install(self)  # File → Open project…

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
        if self.controller.busy:
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
        self.controller.start(config, self.controls.loop_block_s(config))

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
                if not self.controller.busy:
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

    def _on_starting(self, config: RunConfig) -> None:
        # Run stays disabled until the finished timeline is built: building is part of the run.
        self.run_action.setEnabled(False)
        self.stop_action.setEnabled(True)
        self._sync_export_actions(running=True)
        self.run_view.show_running("Running…")
        self.showing.setText(f"Running: {plain(config.title or config.target)}")
        if self.controls.loop_block_s(config) > FREEZE_WARN_S:
            self._update_banner()
        else:
            self.banner.hide()

    def _on_live_run(self, record: RunRecord) -> None:
        self.clear_selection()
        runfile_menu.mark(self, record)  # a live run: no "past run" left in the title

    def _on_run_finished(self, record: RunRecord | None) -> None:
        self.run_action.setEnabled(True)
        self._sync_selection_action()
        self._sync_export_actions()
        self.run_finished.emit(record)

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
        if self.controller.busy:
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
        latest = self.history.latest() is record
        when = self.history.when(record)
        title = (
            ("Showing the latest run" if latest else "⟲ Showing an EARLIER run")
            + f" ({when}): {plain(record.config.title or record.config.target)}"
            + ("" if latest else " — its own settings are back in the toolbar")
            + " · click a request to inspect it"
        )
        self.run_view.show_record(record, stats, model, title=title, past=not latest)
        self._sync_export_actions()
        progress, banner = self._outcome_texts(record, self.run_view.stats)
        self.progress.setText(progress)
        self.banner.setText(banner)
        self.banner.setVisible(bool(banner))
        self.error.hide()
        runfile_menu.mark(self, record)  # a run read back from a file or the history says so

    def stop_run(self) -> None:
        if self.controller.stop():
            self.statusBar().showMessage("Stopping…", 3000)

    async def wait_idle(self) -> None:
        """Stop a run in progress and wait for its task (used when the window closes)."""
        await self.controller.wait_idle()

    # -- selection ---------------------------------------------------------------------------

    def select_request(self, key: RequestKey) -> bool:
        """Show one request of the shown run in the details pane and outline it in both views."""
        return self.run_view.select_request(key)

    def clear_selection(self) -> None:
        self.run_view.clear_selection()

    def _sync_selection_action(self) -> None:
        self.clear_selection_action.setEnabled(self.selection is not None and not self.lab.running)

    # -- export ------------------------------------------------------------------------------

    def _sync_export_actions(self, running: bool = False) -> None:
        for action in getattr(self, "export_actions", []):
            action.setEnabled(self.record is not None and not running)

    def _export(self, title: str, file_filter: str, suffix: str, writer: Any) -> None:
        if self.record is None:
            return
        path = exporting.ask_path(self, title, file_filter, exporting.default_name(self.record, suffix))
        if path is not None:
            exporting.write(self, writer, self.record, path)

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
        return self.run_view.timeline_pixmap()

    # -- closing -------------------------------------------------------------------------------

    closed = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.save_settings()
        self.controller.timer.stop()
        self.stop_run()
        event.accept()
        self.closed.emit()
