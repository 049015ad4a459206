"""Ask before deleting something the person saved: a window-modal box opened with ``open()``,
not a nested event loop, so the served site keeps answering while it is up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox


def ask_to_delete(owner: Any, title: str, text: str, object_name: str, on_yes: Callable[[], object]) -> QMessageBox:
    """Show the question on ``owner`` (kept as ``owner.delete_box`` while it is up); Yes runs
    ``on_yes``, Cancel (the default) does nothing."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        owner,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setObjectName(object_name)

    def answered(button: object) -> None:
        owner.delete_box = None
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:  # type: ignore[arg-type]
            on_yes()

    box.buttonClicked.connect(answered)
    box.finished.connect(lambda _result: setattr(owner, "delete_box", None))
    owner.delete_box = box
    box.open()
    return box
