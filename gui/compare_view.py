"""The comparison of 2–4 runs: the sentence on top, their timelines stacked on one time axis
(zoom or pan one and all follow), their charts overlaid, the stats side by side with each
run's difference from the first, and the findings side by side.

Every run is drawn by a ``RunView``, the same widget as the main window's; what is compared
is computed once by ``engine.compare.compare``.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabBar,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.compare import Comparison, compare
from engine.record import RunRecord
from engine.stats import RunStats

from . import exporting
from .charts_view import RUN_COLOURS, ChartsView
from .run_view import RunView
from .stats_panel import SEVERITY_COLOUR, SEVERITY_MARK
from .time_axis import TimeAxis
from .timeline_view import REQUESTS, THREADS, Legend

DIRECTION_COLOUR = {"better": "#1b7a3a", "worse": "#b3261e", "same": "#666666", "more": "#455a64", "fewer": "#455a64"}
VIEW_MIN_H = 170  # px: one run's title, axis and a few rows


class CompareWindow(QMainWindow):
    """A window of its own (the main one goes on running and showing runs)."""

    closed = Signal()

    def __init__(
        self, records: list[RunRecord], stats: list[RunStats] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.comparison: Comparison = compare(records, stats)
        cmp = self.comparison
        self.setWindowTitle("Compare: " + " vs ".join(r.label for r in cmp.runs))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        # Plain text: the sentence quotes code and names ("run's", "<lambda>") that are not markup.
        self.sentence = QLabel(cmp.sentence, wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.sentence.setStyleSheet("font-size: 16px; font-weight: 600; color: #1b3a66; padding: 4px;")
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.axis = TimeAxis()  # one axis for every run: zoom or pan one, all follow
        self.views: list[RunView] = []
        self.mode_tabs = QTabBar()
        self.mode_tabs.addTab("Requests")
        self.mode_tabs.addTab("Threads")
        self.mode_tabs.currentChanged.connect(self._set_mode)
        stack = QWidget()
        sl = QVBoxLayout(stack)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(2)
        sl.addWidget(Legend())
        sl.addWidget(self.mode_tabs)
        for i, run in enumerate(cmp.runs):
            view = RunView(self.axis, stats=False, details=False)
            view.view_tabs.hide()
            view.legend.hide()
            view.strip.setFixedHeight(60)
            view.setMinimumHeight(VIEW_MIN_H)
            view.show_record(run.record, run.stats, fit=False)
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            view.showing.setText(
                f"<span style='color:{colour}; font-size:15px'>■</span> <b>{escape(run.label)}</b> — "
                f"{escape(run.stats.verdict)}"
            )
            view.showing.setTextFormat(Qt.TextFormat.RichText)
            view.canvas.fit = self.fit  # type: ignore[method-assign]  # double click fits all runs
            sl.addWidget(view, 1)
            self.views.append(view)
        self.charts = ChartsView()
        self.charts.set_records([r.record for r in cmp.runs], [r.label for r in cmp.runs])
        self.tabs = QTabWidget()
        self.tabs.addTab(stack, "Timelines")
        self.tabs.addTab(self.charts, "Charts")
        self.table = self._stats_table()
        self.findings = QLabel(self._findings_html(), wordWrap=True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(QLabel("<b>Stats</b> (each run against the first)"))
        side_layout.addWidget(self.table)
        side_layout.addWidget(QLabel("<b>Findings</b>"))
        side_layout.addWidget(self.findings)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        scroll.setMinimumWidth(300)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.tabs)
        self.split.addWidget(scroll)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.sentence)
        lay.addWidget(self.split, 1)
        self.setCentralWidget(central)
        self._columns_set = False
        QShortcut(QKeySequence("Ctrl+0"), self, self.fit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        exporting.install_comparison_export(self)
        self.fit()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """The first time it shows: the timelines get ~58 % of the width, stats and findings the rest."""
        super().showEvent(event)
        if not self._columns_set:
            self._columns_set = True
            w = self.split.width() or self.width()
            self.split.setSizes([w * 58 // 100, w - w * 58 // 100])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        event.accept()
        self.closed.emit()

    def fit(self) -> None:
        """Show every run whole: the axis fits the longest."""
        self.axis.fit(max(v.model.span_ms for v in self.views if v.model is not None))

    def _set_mode(self, index: int) -> None:
        for view in self.views:
            view.canvas.set_mode(THREADS if index else REQUESTS)

    def _stats_table(self) -> QTableWidget:
        cmp = self.comparison
        table = QTableWidget(len(cmp.metrics), len(cmp.runs))
        table.setHorizontalHeaderLabels([r.label for r in cmp.runs])
        table.setVerticalHeaderLabels([m.label for m in cmp.metrics])
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, metric in enumerate(cmp.metrics):
            table.setItem(row, 0, QTableWidgetItem(cmp.runs[0].texts[metric.key]))
            for col, diffs in enumerate(cmp.differences, start=1):
                d = diffs[row]
                tail = d.text.rsplit(", ", 1)[-1]
                item = QTableWidgetItem(f"{cmp.runs[col].texts[metric.key]}  ({tail})")
                item.setForeground(QColor(DIRECTION_COLOUR.get(d.direction, "#333")))
                item.setToolTip(d.text)
                table.setItem(row, col, item)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(table.rowCount())) + 4
        # Long run names (a server each) make the table scroll sideways: its bar must not hide a row.
        height += table.horizontalScrollBar().sizeHint().height()
        table.setMinimumHeight(height)
        table.setMaximumHeight(height)
        return table

    def _findings_html(self) -> str:
        """One column per run: its headline, then its findings, each marked by severity."""
        cells = []
        for i, run in enumerate(self.comparison.runs):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            items = [f"<p><span style='color:{colour}'>■</span> <b>{escape(run.label)}</b></p>"]
            for f in run.findings:
                mark = SEVERITY_MARK.get(f["severity"], "·")
                sev = SEVERITY_COLOUR.get(f["severity"], "#555")
                text = f["sentence"][:1].upper() + f["sentence"][1:]
                items.append(f"<p style='margin:2px 0'><span style='color:{sev}'>{mark}</span> {escape(text)}.</p>")
            cells.append(f"<td valign='top' style='padding-right:10px'>{''.join(items)}</td>")
        return f"<table width='100%'><tr>{''.join(cells)}</tr></table>"
