"""This session's previous runs; picking one shows its record again (the record is the model)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from engine.record import RunRecord
from engine.stats import RunStats


class RunHistory(QListWidget):
    chosen = Signal(object)  # RunRecord

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self._times: dict[int, str] = {}  # id(record) -> wall-clock time it was added
        self.currentRowChanged.connect(self._on_row)
        self.setToolTip("Runs of this session: pick one to see it again")

    def add(self, record: RunRecord, stats: RunStats | None) -> None:
        self.records.append(record)
        when = time.strftime("%H:%M:%S")
        self._times[id(record)] = when
        what = f"{record.config.target} × {len(record.client)}"
        tail = f" · {stats.wall_s:.2f} s" if stats else ""
        tail += " · stopped" if record.stopped else ""
        item = QListWidgetItem(f"{when}  {what}{tail}")
        item.setData(Qt.ItemDataRole.UserRole, len(self.records) - 1)
        self.blockSignals(True)
        self.insertItem(0, item)
        self.setCurrentRow(0)
        self.blockSignals(False)

    def latest(self) -> RunRecord | None:
        return self.records[-1] if self.records else None

    def when(self, record: RunRecord) -> str:
        """The time of day the run finished ('' for a record not in the list)."""
        return self._times.get(id(record), "")

    def _on_row(self, row: int) -> None:
        item = self.item(row)
        if item is not None:
            self.chosen.emit(self.records[item.data(Qt.ItemDataRole.UserRole)])
