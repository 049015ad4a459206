"""File > Export: the engine writes the files; this module only asks where, and remembers the folder.

The save dialog opens in the folder the last export went to (kept in the window's QSettings,
so it survives a restart), falling back to the home folder when that folder is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from engine.record import RunRecord

FOLDER_KEY = "export/folder"


def _settings(parent: QWidget | None) -> QSettings:
    settings = getattr(parent, "settings", None)
    if isinstance(settings, QSettings):
        return settings
    from .window import APPLICATION, ORGANISATION

    return QSettings(ORGANISATION, APPLICATION)


def last_folder(settings: QSettings) -> Path:
    """Where the previous export was saved, if that folder still exists; else the home folder."""
    value = settings.value(FOLDER_KEY, "")
    folder = Path(str(value)) if value else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def ask_path(parent: QWidget, title: str, file_filter: str, default_name: str) -> Path | None:
    """Ask for a file to save to, starting in the remembered folder; remember the chosen one."""
    settings = _settings(parent)
    path, _ = QFileDialog.getSaveFileName(parent, title, str(last_folder(settings) / default_name), file_filter)
    if not path:
        return None
    chosen = Path(path)
    settings.setValue(FOLDER_KEY, str(chosen.parent))
    settings.sync()
    return chosen


def write(parent: Any, writer: Callable[[Any, Path], Any], record: Any, path: Path) -> bool:
    """Write one export and say so in the status bar; a failure (disk full, no permission) is one
    line there too, never a traceback."""
    try:
        written = writer(record, path)
    except OSError as exc:
        parent.statusBar().showMessage(f"Could not write {path}: {exc.strerror or exc}", 10000)
        return False
    parent.statusBar().showMessage(f"Wrote {written}", 6000)
    return True


def default_name(record: RunRecord, suffix: str) -> str:
    return f"explorer-{record.config.target}{suffix}"


# A comparison's files: menu text, dialog title, file filter, suffix, writer (records, path).
COMPARISON_EXPORTS = (
    ("Export comparison HTML…", "HTML (*.html)", ".html", "engine.exports.html_report:write_comparison_html"),
    ("Export report card PNG…", "PNG (*.png)", "-card.png", "engine.compare_card:write_comparison_png"),
    ("Export report card SVG…", "SVG (*.svg)", "-card.svg", "engine.compare_card:write_comparison_svg"),
)


def install_comparison_export(window: Any) -> list[Any]:
    """File → Export comparison HTML… and the comparison's report card as PNG or SVG, on a
    comparison window (``window.comparison``)."""
    menu = window.menuBar().addMenu("&File")
    actions = []
    for text, file_filter, suffix, writer in COMPARISON_EXPORTS:
        action = menu.addAction(text)
        action.triggered.connect(
            lambda _checked=False, t=text, f=file_filter, s=suffix, w=writer: export_comparison(window, t, f, s, w)
        )
        actions.append(action)
    return actions


def export_comparison(
    window: Any,
    text: str = COMPARISON_EXPORTS[0][0],
    file_filter: str = COMPARISON_EXPORTS[0][1],
    suffix: str = COMPARISON_EXPORTS[0][2],
    writer: str = COMPARISON_EXPORTS[0][3],
) -> bool:
    """Ask where, then write one of the comparison's files (by default its HTML report)."""
    import importlib

    module, _, name = writer.partition(":")
    function = getattr(importlib.import_module(module), name)
    records = [run.record for run in window.comparison.runs]
    default = "explorer-compare-" + "-vs-".join(r.config.target for r in records) + suffix
    path = ask_path(window, text.rstrip("…"), file_filter, default)
    if path is None:
        return False
    return write(window, lambda _records, target: function(records, target), records, path)
