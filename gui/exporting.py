"""File > Export: the engine writes the files; this module only asks where."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from engine.record import RunRecord


def ask_path(parent: QWidget, title: str, file_filter: str, default_name: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / default_name), file_filter)
    return Path(path) if path else None


def default_name(record: RunRecord, suffix: str) -> str:
    return f"explorer-{record.config.target}{suffix}"
