"""File > Export: the engine writes the files; this module only asks where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from engine import export
from engine.record import RunRecord

# (menu text, file filter, default suffix, writer)
EXPORTS: tuple[tuple[str, str, str, Callable[[RunRecord, Path], Path]], ...] = (
    ("Export trace JSON (Perfetto)…", "Trace JSON (*.json)", "-trace.json", export.write_chrome_trace),
    ("Export requests CSV…", "CSV (*.csv)", ".csv", export.write_csv),
    ("Export run JSON…", "JSON (*.json)", "-run.json", export.write_json),
)


def ask_path(parent: QWidget, title: str, file_filter: str, default_name: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / default_name), file_filter)
    return Path(path) if path else None


def default_name(record: RunRecord, suffix: str) -> str:
    return f"explorer-{record.config.target}{suffix}"
