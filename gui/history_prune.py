"""The history panel's "Delete older than…": pick an age, see what it removes, then delete.

The dialog says, before anything is deleted, how many runs were stored before the cutoff and
how many bytes of run files they hold (``History.stored_before``); Delete removes exactly
those runs (the cutoff shown is the one used, fixed when the choice is made, so a run that
ages past it while the dialog is open is not taken as well).  It is window-modal and opened
with ``open()``, not ``exec()``: no nested event loop, so the server on the window's loop
keeps serving while it is up.  A custom age is read by ``engine.age`` (30d, 12h, 2w), the
same parser as ``main.py history --delete-older-than``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from engine.age import AgeError, describe_age, parse_age
from engine.history import format_size

if TYPE_CHECKING:
    from .history_panel import HistoryPanel

CHOICES = (("1 day", "1d"), ("1 week", "1w"), ("30 days", "30d"))
CUSTOM = "Custom…"


class PruneDialog(QDialog):
    """Choose an age; the line under it says what Delete would remove; Delete does it."""

    def __init__(self, panel: HistoryPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.setObjectName("history-prune")
        self.setWindowTitle("Delete older runs")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.cutoff: float | None = None  # what Delete removes: the runs stored before this
        self.age_s: float | None = None
        self.counted = 0
        self.choice = QComboBox()
        self.choice.addItems([name for name, _ in CHOICES] + [CUSTOM])
        self.choice.setCurrentIndex(1)  # a week: the cautious middle
        self.custom = QLineEdit()
        self.custom.setPlaceholderText("e.g. 12h, 90d, 2w")
        self.custom.setEnabled(False)
        self.preview = QLabel(wordWrap=True)
        self.preview.setMinimumWidth(380)
        self.buttons = QDialogButtonBox()
        self.delete_button = QPushButton("Delete")
        self.buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        self.delete_button.clicked.connect(self._delete)
        form = QFormLayout()
        form.addRow("Delete the runs older than", self.choice)
        form.addRow("Custom age", self.custom)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.buttons)
        self.choice.currentIndexChanged.connect(self._update)
        self.custom.textChanged.connect(self._update)
        self._update()

    def age_text(self) -> str:
        """What the user chose, as an age (``1w``), or what they typed for a custom one."""
        index = self.choice.currentIndex()
        return CHOICES[index][1] if index < len(CHOICES) else self.custom.text()

    def _update(self) -> None:
        """Count what the chosen age would remove, and say it; Delete only when there is some."""
        custom = self.choice.currentIndex() == len(CHOICES)
        self.custom.setEnabled(custom)
        self.cutoff, self.age_s, self.counted = None, None, 0
        self.delete_button.setEnabled(False)
        self.delete_button.setText("Delete")
        history = self.panel.history
        if history is None:
            self.preview.setText("The history is unavailable.")
            return
        text = self.age_text()
        if custom and not text.strip():
            self.preview.setText("Type an age: a number and s, m, h, d or w (12h, 90d).")
            return
        try:
            age = parse_age(text)
        except AgeError as exc:
            self.preview.setText(f"Not an age: {exc}.")
            return
        cutoff = time.time() - age
        count, size = history.stored_before(cutoff)
        total = history.count()
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(cutoff))
        if not count:
            self.preview.setText(
                f"No run is older than {describe_age(age)} (stored before {stamp}): nothing to delete. "
                f"The history holds {total} run{'' if total == 1 else 's'}, {format_size(history.size_bytes())}."
            )
            return
        runs = f"{count} run{'' if count == 1 else 's'}"
        left = total - count
        self.preview.setText(
            f"Deletes {runs} of {total}, stored before {stamp} (older than {describe_age(age)}): "
            f"{format_size(size)} of run files. {left} run{'' if left == 1 else 's'} stay. "
            "Their measurements are gone for good (save a run to a file first to keep it)."
        )
        self.cutoff, self.age_s, self.counted = cutoff, age, count
        self.delete_button.setText(f"Delete {runs}")
        self.delete_button.setEnabled(True)

    def _delete(self) -> None:
        if self.cutoff is None or self.age_s is None:
            return
        self.panel.delete_before(self.cutoff, self.age_s)
        self.accept()
