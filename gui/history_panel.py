"""The history panel: every stored run (this session's and earlier ones), sortable and filterable.

Qt model/view: ``HistoryModel`` holds the history's entries (the list columns only; a run's
file is read from the database when it is opened), a ``QSortFilterProxyModel`` sorts it and
filters it by demo, a ``QTableView`` shows it.  The Run and Note columns are edited in place
(rename, note); Delete asks first.  A run is stored when it finishes, before its finished
picture is built (a 10,000-request run takes about half a second): after the run, so the
writing cannot weigh on what the run measured.
"""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.commands.history_cmd import settings_text
from engine.history import History, HistoryEntry, HistoryError, format_size
from engine.record import RunRecord
from engine.stats import RunStats

ALL_DEMOS = "All demos"
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
TARGET_ROLE = Qt.ItemDataRole.UserRole + 2
ID_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMNS = ("Saved", "Run", "Load", "Wall s", "p99 ms", "Headline", "Note")
NAME_COLUMN, NOTE_COLUMN = 1, 6
MAX_KEEP = 100_000
_Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """The entries as rows; edits to Run and Note go straight to the history file."""

    edited = Signal()

    def __init__(self, panel: HistoryPanel) -> None:
        super().__init__()
        self.panel = panel
        self.entries: list[HistoryEntry] = []

    def reset(self, entries: list[HistoryEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt override)
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() in (NAME_COLUMN, NOTE_COLUMN):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self.entries[index.row()]
        column = index.column()
        if role == ID_ROLE:
            return e.id
        if role == TARGET_ROLE:
            return e.target
        if role == Qt.ItemDataRole.EditRole:
            return e.name if column == NAME_COLUMN else e.note if column == NOTE_COLUMN else None
        if role == SORT_ROLE:
            return (e.saved_at, e.label, e.concurrency, e.wall_s, e.p99_ms, e.headline, e.note)[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(e, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(e)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(e: HistoryEntry, column: int) -> str:
        if column == 0:
            saved = time.localtime(e.saved_at)
            today = saved[:3] == time.localtime()[:3]
            return time.strftime("%H:%M" if today else "%m-%d %H:%M", saved)
        if column == 1:
            return f"#{e.id} {e.label}" + (f" [{e.ended}]" if e.ended else "")
        if column == 2:
            return settings_text(e) + (f" {e.params}" if e.params else "")
        if column == 3:
            return f"{e.wall_s:.2f}"
        if column == 4:
            return f"{e.p99_ms:.1f}"
        if column == 5:
            return e.headline
        return e.note

    @staticmethod
    def _tooltip(e: HistoryEntry) -> str:
        saved = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.saved_at))
        lines = [
            f"#{e.id} {e.target}" + (f" “{e.name}”" if e.name else "") + f" · saved {saved}",
            f"{settings_text(e)} {e.params} · loop {e.loop} · {e.errors} errors · {format_size(e.size_bytes)}",
            e.headline,
        ]
        if e.ended:
            lines.append(f"This run was {e.ended}.")
        if e.note:
            lines.append(f"Note: {e.note}")
        lines.append("Click to open it; double-click Run or Note to rename or annotate it.")
        return "\n".join(lines)

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() not in (NAME_COLUMN, NOTE_COLUMN):
            return False
        history = self.panel.history
        if history is None:
            return False
        e = self.entries[index.row()]
        try:
            if index.column() == NAME_COLUMN:
                history.rename(e.id, str(value))
            else:
                history.set_note(e.id, str(value))
            self.entries[index.row()] = history.entry(e.id)
        except HistoryError as exc:
            self.panel.say(str(exc))
            return False
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), len(COLUMNS) - 1))
        self.edited.emit()
        return True


class _DemoFilter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(TARGET_ROLE)
        self.setFilterKeyColumn(0)


class HistoryPanel(QWidget):
    """The window's list of runs.  ``chosen`` carries the record to show: this session's
    own object for its runs, one read back from the history for earlier ones."""

    chosen = Signal(object)  # RunRecord
    stored = Signal(int)  # a finished run was written: its history id

    def __init__(self, parent: QWidget | None = None, path: Any = None) -> None:
        super().__init__(parent)
        self.records: dict[int, RunRecord] = {}  # history id -> this session's record
        self.unsaved: list[RunRecord] = []  # this session's runs not (yet) stored
        self._times: dict[int, str] = {}  # id(record) -> when it finished or was saved
        self._latest: RunRecord | None = None
        self.history: History | None = None
        self.problem = ""
        try:
            self.history = History.open(path, quiet=True)
        except HistoryError as exc:
            self.problem = f"History unavailable: {exc}"
        self.model = HistoryModel(self)
        self.proxy = _DemoFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().hide()
        # By pixel: scrolled by whole rows, the last row of a short table can stay half hidden.
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((48, 150, 130, 52, 60, 300, 120)):
            self.table.setColumnWidth(column, width)
        self.table.clicked.connect(self._on_clicked)
        self.demo = QComboBox()
        self.demo.setToolTip("Show only the runs of one demo or scenario")
        self.demo.currentTextChanged.connect(self._on_demo)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the selected run from the history (asks first)")
        self.delete_button.clicked.connect(self.ask_delete)
        self.prune_button = QPushButton("Delete older than…")
        self.prune_button.setToolTip("Delete every run stored longer ago than an age you pick (says how many first)")
        self.prune_button.clicked.connect(self.ask_prune)
        self.prune_box: QWidget | None = None
        self.keep = QSpinBox()
        self.keep.setRange(1, MAX_KEEP)
        self.keep.setPrefix("keep last ")
        self.keep.setToolTip("The history keeps this many runs (and at most 1 GB of them); the oldest go first")
        self.keep.setKeyboardTracking(False)
        self.size_label = QLabel()
        self.size_label.setStyleSheet("color:#555;")
        self.notice = QLabel(wordWrap=True)
        self.notice.setStyleSheet("color:#7a4b00;")
        self.delete_box: QMessageBox | None = None

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        title = QLabel("History")
        title.setToolTip("Every finished or stopped run, kept between sessions (main.py history lists them too)")
        top.addWidget(title)
        top.addWidget(self.demo, 1)
        top.addWidget(self.delete_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.size_label, 1)
        bottom.addWidget(self.prune_button)
        bottom.addWidget(self.keep)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        if self.history is not None:
            self.keep.setValue(self.history.keep_last)
        self.keep.valueChanged.connect(self._on_keep)
        notice = self.problem or (self.history.notice if self.history is not None else None)
        self.notice.setText(notice or "")
        self.notice.setVisible(bool(notice))
        self.refresh()

    # -- what the window asks ---------------------------------------------------------------------

    def add(self, record: RunRecord, stats: RunStats | None = None) -> None:
        """A run of this session finished: remember it, and store it in a worker thread."""
        self._latest = record
        self._times[id(record)] = time.strftime("%H:%M:%S")
        if self.history is None:
            self.unsaved.append(record)
            return
        self._stored(record, *self._store(record))

    @property
    def pending(self) -> int:
        """How many runs are still being stored: none, a run is stored before ``add`` returns."""
        return 0

    def _store(self, record: RunRecord) -> tuple[int | None, str]:
        """A connection of its own for the write, so that a failing store leaves the panel's intact."""
        assert self.history is not None
        try:
            with History.open(self.history.path, quiet=True) as history:
                return history.add(record), ""
        except HistoryError as exc:
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 (a store that fails must not take the window down)
            return None, f"could not store the run: {exc!r}"

    def _stored(self, record: RunRecord, run_id: int | None, problem: str) -> None:
        if run_id is None:
            self.unsaved.append(record)
            self.say(problem)
            return
        self.records[run_id] = record
        self.refresh()
        self.select_id(run_id)
        self.stored.emit(run_id)

    def latest(self) -> RunRecord | None:
        return self._latest

    def when(self, record: RunRecord) -> str:
        """When the run finished (this session) or was saved (read back from the history)."""
        return self._times.get(id(record), "")

    def count(self) -> int:
        """How many runs the list shows (with its filter)."""
        return self.proxy.rowCount()

    def say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    # -- the list ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the entries again (after a store, a delete, a cap change)."""
        if self.history is None:
            self.size_label.setText(self.problem)
            self.delete_button.setEnabled(False)
            self.prune_button.setEnabled(False)
            return
        chosen = self.selected_id()
        try:
            entries = self.history.entries()
        except Exception as exc:  # noqa: BLE001 (the file went bad under us: say so, keep the window)
            self.say(f"cannot read the history: {exc}")
            return
        live = {e.id for e in entries}
        self.records = {i: r for i, r in self.records.items() if i in live}
        self.model.reset(entries)
        for column in (0, 3, 4):  # short figures: as wide as they are
            self.table.resizeColumnToContents(column)
        self._sync_demos(entries)
        self.size_label.setText(
            f"{len(entries)} run{'' if len(entries) == 1 else 's'} · {format_size(self.history.size_bytes())}"
        )
        if chosen is not None:
            self.select_id(chosen)
        self.delete_button.setEnabled(self.selected_id() is not None)

    def _sync_demos(self, entries: list[HistoryEntry]) -> None:
        current = self.demo.currentText() or ALL_DEMOS
        targets = sorted({e.target for e in entries})
        self.demo.blockSignals(True)
        self.demo.clear()
        self.demo.addItems([ALL_DEMOS, *targets])
        self.demo.setCurrentText(current if current in targets else ALL_DEMOS)
        self.demo.blockSignals(False)
        self._on_demo(self.demo.currentText())

    def _on_demo(self, text: str) -> None:
        pattern = "" if text in ("", ALL_DEMOS) else f"^{re.escape(text)}$"
        self.proxy.setFilterRegularExpression(QRegularExpression(pattern))

    def row_of(self, run_id: int) -> int | None:
        """The view's row showing run ``run_id`` (None if filtered out or gone)."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(ID_ROLE) == run_id:
                return row
        return None

    def id_of(self, record: RunRecord) -> int | None:
        return next((i for i, r in self.records.items() if r is record), None)

    def clear_choice(self) -> None:
        """A run not in the table is shown (an opened file): no row stays selected."""
        self.table.clearSelection()
        self.delete_button.setEnabled(False)

    def select_id(self, run_id: int) -> None:
        row = self.row_of(run_id)
        if row is None:
            return
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(self.proxy.index(row, 0), flags)
        self.table.setCurrentIndex(self.proxy.index(row, 0))
        self.delete_button.setEnabled(True)

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data(ID_ROLE) if rows else None

    def _on_clicked(self, index: QModelIndex) -> None:
        run_id = index.data(ID_ROLE)
        self.delete_button.setEnabled(run_id is not None)
        if run_id is not None:
            self.open_id(run_id)

    def open_id(self, run_id: int) -> RunRecord | None:
        """Show run ``run_id``: this session's record if it is one, else read back whole."""
        record = self.records.get(run_id)
        if record is None and self.history is not None:
            try:
                record = self.history.load(run_id)
            except HistoryError as exc:
                self.say(str(exc))
                return None
            entry = self.history.entry(run_id)
            self._times[id(record)] = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.saved_at))
        if record is not None:
            self.chosen.emit(record)
        return record

    # -- delete, cap ------------------------------------------------------------------------------

    def ask_delete(self) -> None:
        """Ask (a window-modal box, not a nested loop: the server keeps serving) and delete on Yes."""
        run_id = self.selected_id()
        if run_id is None or self.history is None:
            return
        entry = next(e for e in self.model.entries if e.id == run_id)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete this run?",
            f"Delete run #{entry.id} ({entry.label}, {HistoryModel._text(entry, 0)}) from the history? "
            "Its measurements are gone for good (save it to a file first to keep them).",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("history-delete")

        def answered(button: object) -> None:
            self.delete_box = None
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:  # type: ignore[arg-type]
                self.delete(run_id)

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _result: setattr(self, "delete_box", None))
        self.delete_box = box
        box.open()

    def delete(self, run_id: int) -> None:
        assert self.history is not None
        try:
            self.history.delete(run_id)
        except HistoryError as exc:
            self.say(str(exc))
        self.refresh()

    def ask_prune(self) -> None:
        """Open the "Delete older than…" dialog (``gui.history_prune``): it counts, asks, deletes."""
        from .history_prune import PruneDialog

        if self.history is None:
            return
        dialog = PruneDialog(self)
        dialog.finished.connect(lambda _result: setattr(self, "prune_box", None))
        self.prune_box = dialog
        dialog.open()

    def delete_before(self, cutoff: float, age_s: float) -> int:
        """Delete the runs stored before ``cutoff`` (``age_s`` ago, for the line saying so)."""
        from engine.age import describe_age

        assert self.history is not None
        try:
            before = self.history.size_bytes()
            gone = self.history.delete_before(cutoff)
        except (HistoryError, sqlite3.Error) as exc:
            self.say(f"could not delete the old runs: {exc}")
            return 0
        self.refresh()
        self.say(
            f"Deleted {gone} run{'' if gone == 1 else 's'} older than {describe_age(age_s)}: "
            f"the history went from {format_size(before)} to {format_size(self.history.size_bytes())}."
        )
        return gone

    def _on_keep(self, value: int) -> None:
        if self.history is None:
            return
        try:
            removed = self.history.set_cap(keep_last=value)
        except HistoryError as exc:
            self.say(str(exc))
            return
        if removed:
            self.say(f"Removed the {removed} oldest run{'' if removed == 1 else 's'} to keep the last {value}.")
        self.refresh()

    def close_history(self) -> None:
        if self.history is not None:
            self.history.close()
            self.history = None
