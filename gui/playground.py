"""The playground: write a view, mount it on the running site (Ctrl+Enter), run it like a demo.

Mounting is the app's own call to ``embedded_site.playground.mount``: the code never
travels over HTTP.  A mounted snippet is a catalogue entry (``playground:<name>``, in the
catalogue's Playground group): selecting it puts its declared parameters in the toolbar,
and Run, the timeline, findings, history and exports treat it as a demo.  A snippet that
does not mount has its line marked in the gutter with the message, and the site keeps
serving what it served before.  Every mounted snippet is also saved as
``<data dir>/playground/<name>.py``, listed here next time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from embedded_site import playground
from embedded_site.demos.catalogue import Demo
from embedded_site.playground import MountError, PlaygroundDemo
from engine import snippets

from . import compare_with
from .code_editor import CodeEditor
from .confirm_delete import ask_to_delete
from .theme import ERROR_STYLE

if TYPE_CHECKING:
    from engine.record import RunRecord

    from .window import MainWindow

DEFAULT_NAME = "my-view"
OK_STYLE = "color:#1b5e20;"
DOCK_SHARE = 0.4  # of the window's height, at most, when the playground opens
DOCK_LEAST_SHARE = 0.28  # of the window's height, at least: enough lines of code to work in
DOCK_MIN_H = 150  # px: the name row, a few lines of code and the status line


class PlaygroundPane(QWidget):
    """Name, saved snippets, starters, Mount; the code pane; one line saying what mounting did."""

    mounted = Signal(object)  # PlaygroundDemo
    deleted = Signal(str)  # the snippet's name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLineEdit(DEFAULT_NAME, toolTip="the snippet's name: its URL is /playground/<name>/")
        self.name.setMaximumWidth(180)
        self.saved = QComboBox(toolTip="snippets kept in the data directory")
        self.saved.setMinimumWidth(140)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("remove the saved snippet chosen in Saved (it asks first)")
        self.delete_box: QMessageBox | None = None
        self.async_starter = QPushButton("New async view")
        self.sync_starter = QPushButton("New sync view")
        self.mount_button = QPushButton("Mount  (Ctrl+Enter)")
        self.mount_button.setToolTip("serve this code at /playground/<name>/ on the running site, and keep it")
        self.mount_button.setDefault(True)
        self.compare_button = QPushButton("Compare with…")
        self.compare_button.setToolTip(
            "mount this code, then run it and a demo or another snippet at the same load and compare them"
        )
        self.status = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.editor = CodeEditor()
        self.editor.setPlainText(playground.ASYNC_STARTER)
        self.editor.setMinimumHeight(60)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Name"))
        row.addWidget(self.name)
        row.addWidget(QLabel("Saved"))
        row.addWidget(self.saved)
        row.addWidget(self.delete_button)
        row.addWidget(self.async_starter)
        row.addWidget(self.sync_starter)
        row.addStretch(1)
        row.addWidget(self.compare_button)
        row.addWidget(self.mount_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.editor, 1)
        lay.addWidget(self.status)

        self.mount_action = QAction("Mount", self, shortcut=QKeySequence("Ctrl+Return"))
        self.mount_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.mount_action.triggered.connect(self.mount)
        self.addAction(self.mount_action)
        enter = QAction(self, shortcut=QKeySequence("Ctrl+Enter"))  # the keypad's Enter
        enter.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        enter.triggered.connect(self.mount)
        self.addAction(enter)
        self.mount_button.clicked.connect(self.mount)
        self.async_starter.clicked.connect(lambda: self.load_text(playground.ASYNC_STARTER))
        self.sync_starter.clicked.connect(lambda: self.load_text(playground.SYNC_STARTER))
        self.saved.activated.connect(self._open_saved)
        self.delete_button.clicked.connect(self.ask_delete)
        self.refresh_saved()
        # Whether a run is going (set by install): the view a run measures must not change under it.
        self.running: Callable[[], bool] = lambda: False

    def refresh_saved(self) -> None:
        self.saved.blockSignals(True)
        self.saved.clear()
        names = snippets.names()
        self.saved.addItems(names)
        self.saved.setEnabled(bool(names))
        self.saved.setCurrentIndex(names.index(self.name.text()) if self.name.text() in names else -1)
        self.saved.blockSignals(False)
        self.delete_button.setEnabled(bool(names))

    def ask_delete(self) -> None:
        """Ask (a window-modal box, not a nested loop: the server keeps serving), then delete the
        snippet chosen in Saved, or the one named in Name when none is chosen."""
        name = self.saved.currentText() or self.name.text().strip()
        if name not in snippets.names():
            self._say(f"No saved snippet is named {name!r}.", error=True)
            return
        ask_to_delete(
            self,
            "Delete this snippet?",
            f"Delete the saved snippet {name} ({snippets.path_of(name)})? Its file is removed and "
            f"playground:{name} is taken off the site; runs of it in the history keep the code they measured.",
            "snippet-delete",
            lambda: self.delete(name),
        )

    def delete(self, name: str) -> bool:
        """Remove the saved snippet ``name`` and take it off the site; refused while a run is going."""
        if self.running():
            self._say("A run is going: delete when it has ended (the run may be measuring this view)", error=True)
            return False
        try:
            snippets.delete(name)
        except OSError as exc:
            self._say(f"{name} could not be deleted: {exc.strerror or exc}", error=True)
            return False
        self.refresh_saved()
        self.deleted.emit(name)
        self._say(f"Deleted {name}: its file is gone and playground:{name} is no longer served")
        return True

    def _open_saved(self, index: int) -> None:
        name = self.saved.itemText(index)
        if name:
            self.open_saved(name)

    def open_saved(self, name: str) -> None:
        """Put the saved snippet ``name`` in the pane (not mounted until Mount)."""
        try:
            text = snippets.load(name)
        except (OSError, UnicodeDecodeError, MountError) as exc:
            self._say(f"{name} cannot be read: {exc}", error=True)
            return
        self.name.setText(name)
        self.load_text(text)

    def load_text(self, text: str, name: str | None = None) -> None:
        if name is not None:
            self.name.setText(name)
        self.editor.setPlainText(text)
        self.editor.clear_error()
        self.status.clear()

    def open_demo(self, demo: Demo) -> None:
        """Copy a demo's view (with the imports and parameters it needs) into the pane to be changed."""
        name = demo.slug if isinstance(demo, PlaygroundDemo) else f"my-{demo.id}"[:40].rstrip("-")
        self.load_text(playground.snippet_for(demo), name)
        self._say(f"Copied from {demo.id}: change it, then Mount (Ctrl+Enter) to serve it as playground:{name}")

    def mount(self) -> PlaygroundDemo | None:
        """Mount the pane's code; on success keep it in the data directory and announce it."""
        name = self.name.text().strip()
        source = self.editor.toPlainText()
        if self.running():
            self._say("A run is going: mount when it has ended (a run measures the code it started with)", error=True)
            return None
        try:
            demo = playground.mount(name, source)
        except MountError as exc:
            self.editor.mark_error(exc.line, exc.message)
            self._say(f"Not mounted: {exc}" + ("" if exc.line is None else "  (the line is marked)"), error=True)
            return None
        self.editor.clear_error()
        try:
            path = snippets.save(name, source)
            kept = f"kept as {path}"
        except OSError as exc:
            kept = f"NOT saved: {exc.strerror or exc}"
        params = ", ".join(p.name for p in demo.params) or "no parameters"
        self._say(f"Mounted {demo.id} at {demo.path} ({'async' if demo.is_async else 'sync'}, {params}); {kept}")
        self.refresh_saved()
        self.mounted.emit(demo)
        return demo

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE)


def install(window: MainWindow) -> PlaygroundPane:
    """Add the playground as a dock under the timeline, View → Playground, and the catalogue's
    "Open in playground"; a mounted snippet appears in the catalogue, selected, ready to run."""
    pane = PlaygroundPane()
    pane.running = lambda: window.lab.running
    dock = QDockWidget("Playground: your own view", window)
    dock.setObjectName("playground-dock")
    dock.setWidget(pane)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setText("Playground")
    toggle.setShortcut(QKeySequence("Ctrl+E"))
    window.view_menu.addSeparator()
    window.view_menu.addAction(toggle)
    settings = window.settings
    last = settings.value("playground/last")
    if isinstance(last, str) and last in snippets.names():
        pane.open_saved(last)

    def on_mounted(demo: PlaygroundDemo) -> None:
        window.catalogue.refresh()
        window.catalogue.filter.clear()
        window.catalogue.select(demo.id)
        settings.setValue("playground/last", demo.slug)

    def open_demo(demo: Demo) -> None:
        pane.open_demo(demo)
        dock.show()
        dock.raise_()
        pane.editor.setFocus()

    def fit_dock(visible: bool) -> None:
        """Open at a height that leaves the timeline and the stats their minimum (a small screen
        gets a smaller pane; the splitter handle gives the person the rest)."""
        central = window.centralWidget()
        if not visible or dock.isFloating() or central is None:
            return
        room = central.height() + dock.height() - central.minimumSizeHint().height() - 8
        stats = window.stats_panel  # its wrapped text needs its height at its width, not its minimum
        stats_room = stats.height() - stats.layout().totalHeightForWidth(stats.width()) + dock.height()
        least = max(DOCK_MIN_H, int(window.height() * DOCK_LEAST_SHARE))
        height = max(least, min(room, stats_room, int(window.height() * DOCK_SHARE)))
        window.resizeDocks([dock], [height], Qt.Orientation.Vertical)

    dock.visibilityChanged.connect(fit_dock)

    def on_history(record: RunRecord) -> None:
        """An earlier run of a snippet shows the code it measured, even if it was mounted again since."""
        code = record.extra.get("snippets", {}).get(record.config.target)
        current = window.catalogue.current
        if code is None or current is None or current.id != record.config.target or current.demo is None:
            return
        if code != current.demo.source:
            window.catalogue.source.setPlainText(code)
            window.catalogue.lesson.setText(
                f"{window.catalogue.lesson.text()}\n\nThis run measured the code shown below, as it was mounted "
                "then; the view mounted now is different (the playground pane has it)."
            )

    def on_deleted(name: str) -> None:
        window.catalogue.refresh()
        if settings.value("playground/last") == name:
            settings.remove("playground/last")

    def compare(_checked: bool = False) -> None:
        """Mount the pane's code (it is then the toolbar's target), then ask what to compare it with."""
        if pane.mount() is not None:
            compare_with.ask_compare_with(window)

    window.history.chosen.connect(on_history)
    pane.mounted.connect(on_mounted)
    pane.deleted.connect(on_deleted)
    pane.compare_button.clicked.connect(compare)
    window.catalogue.open_in_playground.connect(open_demo)
    window.playground = pane
    window.playground_dock = dock
    return pane
