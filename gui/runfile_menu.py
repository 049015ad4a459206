"""File → Open run… / Save run…, a file dropped on the window, and the mark of a past run.

An opened run (a run file, a ``--record`` export, a Chrome trace this app exported, or a
run from the history) is drawn by the same code as a finished one (``MainWindow._on_history``
restores its demo and settings, ``_show_record`` draws it); the title and the line over the
timeline say it is a past run and where it came from.  A file that cannot be read is one
line over the timeline, never a dialog stack or a crash.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from engine.record import RunRecord
from engine.runfile import FILE_FILTER, SUFFIX, RunFileError, load_run, save_run

TITLE = "Django Async Explorer"
OPEN_FILTER = f"{FILE_FILTER};;Chrome traces exported by this app (*.json);;All files (*)"
_FOLDER_KEY = "runfile/folder"


def install(window: Any, file_menu: QMenu) -> None:
    """Add Open run… and Save run… to the File menu and accept dropped files."""
    open_action = QAction("Open run…", window, shortcut=QKeySequence.StandardKey.Open)
    open_action.setToolTip("Open a saved run, a --record export or a trace exported by this app (Ctrl+O)")
    open_action.triggered.connect(lambda: ask_open(window))
    save_action = QAction("Save run…", window, shortcut=QKeySequence.StandardKey.Save)
    save_action.setToolTip("Save the shown run to one file that opens again with every measurement (Ctrl+S)")
    save_action.triggered.connect(lambda: ask_save(window))
    file_menu.addAction(open_action)
    file_menu.addAction(save_action)
    file_menu.addSeparator()
    window.open_run_action, window.save_run_action = open_action, save_action
    window.export_actions.append(save_action)  # enabled with the exports: when a run is shown
    window.setAcceptDrops(True)
    window._drop_filter = _Drops(window)
    window.installEventFilter(window._drop_filter)


def _folder(window: Any) -> str:
    folder = window.settings.value(_FOLDER_KEY)
    return folder if isinstance(folder, str) and Path(folder).is_dir() else str(Path.home())


def ask_open(window: Any) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open run", _folder(window), OPEN_FILTER)
    if path:
        window.settings.setValue(_FOLDER_KEY, str(Path(path).parent))
        open_path(window, Path(path))


def ask_save(window: Any) -> None:
    record = window.record
    if record is None or (window.run_task is not None and not window.run_task.done()):
        return
    name = f"explorer-{record.config.target}-{time.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"
    path, _ = QFileDialog.getSaveFileName(window, "Save run", str(Path(_folder(window)) / name), FILE_FILTER)
    if not path:
        return
    window.settings.setValue(_FOLDER_KEY, str(Path(path).parent))
    save_to(window, Path(path))


def save_to(window: Any, path: Path) -> Path | None:
    """Write the shown run to ``path`` (whole or not at all); say where, or why not."""
    try:
        written = save_run(window.record, path)
    except OSError as exc:
        _problem(window, f"Cannot save {path}: {exc.strerror or exc}")
        return None
    window.statusBar().showMessage(f"Saved the run to {written}", 6000)
    return written


def open_path(window: Any, path: Path) -> RunRecord | None:
    """Read ``path`` and show it as a past run; a bad file is one line, and the shown run stays."""
    if window.run_task is not None and not window.run_task.done():
        window.statusBar().showMessage("A run is going: open the file when it is done.", 5000)
        return None
    try:
        record = load_run(path)
    except RunFileError as exc:
        _problem(window, f"Cannot open it: {exc}")
        return None
    show_past(window, record)
    return record


def show_past(window: Any, record: RunRecord) -> None:
    """Restore the run's demo and settings when the catalogue has that demo, then draw it."""
    if record.config.target in window.catalogue.targets:
        window._on_history(record)
    else:
        window._show_record(record)


def mark(window: Any, record: RunRecord) -> None:
    """The window's title and the line over the timeline say when a past run is shown."""
    past = record.past
    if past is None:
        window.setWindowTitle(TITLE)
        return
    what = record.config.title or record.config.target
    when = window.history.when(record)
    window.setWindowTitle(f"{TITLE} — past run: {past.source}")
    if past.kind != "history":
        window.history.clear_choice()
    line = f"⟲ Showing a PAST run from {past.source}" + (f" (saved {when})" if when else "") + f": {what}"
    if past.from_trace:
        line += " — read from a trace, which does not hold " + "; ".join(past.missing)
    elif record.config.target in window.catalogue.targets:
        line += " — its own settings are back in the toolbar"
    window.showing.setText(line + " · click a request to inspect it")
    window.showing.setStyleSheet("color:#7a4b00; font-weight:600;")


def _problem(window: Any, text: str) -> None:
    window.error.setText(text)
    window.error.show()
    window.statusBar().showMessage(text, 8000)


class _Drops(QObject):
    """Files dragged onto the window: accept local files, open the first one dropped."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if _local_files(event):
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            files = _local_files(event)
            if files:
                event.acceptProposedAction()
                open_path(self.window, files[0])
                return True
        return False


def _local_files(event: QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
