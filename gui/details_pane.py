"""The selected request, opened up: timings, nested spans, SQL statements, the exception.

It renders an ``engine.request_detail.RequestDetail`` and nothing else: every number in it
was derived by the engine from the run record, so the pane and the exports cannot disagree.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.request_detail import RequestDetail, SpanNode

from . import theme

SPANS_TAB, SQL_TAB, EXCEPTION_TAB = 0, 1, 2
NAME_COLUMN_MIN = 240  # px: the span names' column takes at most 45 % of the tree, and never less than this
MAX_SPAN_ITEMS = 5000  # a request with more spans shows the first ones and says how many are left out


def _swatch(colour: QColor) -> QIcon:
    pix = QPixmap(10, 10)
    pix.fill(colour)
    return QIcon(pix)


def _ms(value: float) -> str:
    return f"{value:,.2f} ms" if value < 10_000 else f"{value / 1000:,.2f} s"


class DetailsPane(QWidget):
    """Summary and timings on the left; spans, SQL and the exception in tabs on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: RequestDetail | None = None
        self.summary = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        summary_scroll = QScrollArea(widgetResizable=True)
        summary_scroll.setWidget(self.summary)
        summary_scroll.setMinimumWidth(220)

        self.spans = QTreeWidget()
        self.spans.setHeaderLabels(["span", "duration", "thread", "starts at"])
        self.spans.setUniformRowHeights(True)
        self.sql = QTreeWidget(rootIsDecorated=False)
        self.sql.setHeaderLabels(["#", "duration", "thread", "starts at", "statement"])
        self.sql.setUniformRowHeights(True)
        self.exception = QPlainTextEdit(readOnly=True)
        self.exception.setFont(theme.mono_font(9))
        self.exception.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # a traceback's indentation is its meaning
        self.tabs = QTabWidget()
        self.tabs.addTab(self.spans, "Spans")
        self.tabs.addTab(self.sql, "SQL")
        self.tabs.addTab(self.exception, "Exception")
        self._chosen_tab = SPANS_TAB  # the user's pick between Spans and SQL, kept across requests
        self.tabs.tabBarClicked.connect(self._on_tab_clicked)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(summary_scroll)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 770])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        self.show_detail(None)

    def _on_tab_clicked(self, index: int) -> None:
        if index in (SPANS_TAB, SQL_TAB):
            self._chosen_tab = index

    def show_detail(self, detail: RequestDetail | None) -> None:
        """Render one request (None: the hint that says how to pick one)."""
        self.detail = detail
        self.spans.clear()
        self.sql.clear()
        self.exception.clear()
        if detail is None:
            self.summary.setText("Click a bar (Requests) or a span (Threads) to see that request here. Esc clears.")
            self.tabs.setTabText(SQL_TAB, "SQL")
            self.tabs.setTabEnabled(EXCEPTION_TAB, False)
            return
        self.summary.setText(summary_html(detail))
        budget = [MAX_SPAN_ITEMS]
        for node in detail.spans:
            self.spans.addTopLevelItem(_span_item(node, budget))
        self.spans.expandAll()
        for col in range(4):
            self.spans.resizeColumnToContents(col)
        # Long span names (thread hops name their function) must not push the durations out of view.
        cap = max(NAME_COLUMN_MIN, self.spans.viewport().width() * 9 // 20)
        self.spans.setColumnWidth(0, min(self.spans.columnWidth(0), cap))
        for i, s in enumerate(detail.sql, start=1):
            item = QTreeWidgetItem([str(i), _ms(s.duration_ms), s.thread, _ms(s.start_ms), s.statement])
            item.setToolTip(4, s.statement)
            for col in (0, 1, 3):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight)
            self.sql.addTopLevelItem(item)
        for col in range(4):
            self.sql.resizeColumnToContents(col)
        self.tabs.setTabText(SQL_TAB, f"SQL ({len(detail.sql)})")
        failed = bool(detail.exception_type or detail.traceback)
        self.tabs.setTabEnabled(EXCEPTION_TAB, failed)
        if failed:  # what went wrong comes first
            head = f"{detail.exception_type}: {detail.exception or ''}".strip()
            self.exception.setPlainText((detail.traceback or head).rstrip() + "\n")
            self.tabs.setCurrentIndex(EXCEPTION_TAB)
        else:
            self.tabs.setCurrentIndex(self._chosen_tab)


def summary_html(detail: RequestDetail) -> str:
    """The head of the pane: which request, how it ended, and its timings."""
    path = detail.path + (f"?{detail.query}" if detail.query else "")
    colour = "#b00000" if detail.exception_type or detail.error or (detail.status or 0) >= 500 else "#1b3a66"
    rows = "".join(
        f"<tr><td title='{html.escape(t.help)}'>{html.escape(t.label)}</td><td align=right><b>{_ms(t.ms)}</b></td></tr>"
        for t in detail.timings
    )
    threads = "<br>".join(html.escape(t) for t in detail.threads) or "–"
    return (
        f"<b style='font-size:14px'>{html.escape(detail.title)}</b> {html.escape(detail.method)} "
        f"{html.escape(path)}<br>"
        f"<span style='color:{colour}'><b>{html.escape(detail.outcome)}</b></span> · {detail.bytes:,} bytes<br>"
        f"<table cellspacing=2>{rows}</table>"
        f"<span style='color:#555'>threads:</span><br>{threads}"
    )


def _span_item(node: SpanNode, budget: list[int]) -> QTreeWidgetItem:
    budget[0] -= 1
    name = f"{node.phase}: {node.name}" if node.name and node.name != node.phase else node.phase
    if node.error:
        name += f" ({node.error})"
    item = QTreeWidgetItem([name, _ms(node.duration_ms), node.thread, _ms(node.start_ms)])
    item.setIcon(0, _swatch(theme.colour(node.phase)))
    item.setToolTip(0, node.name)
    for col in (1, 3):
        item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight)
    for i, child in enumerate(node.children):
        if budget[0] <= 0:
            item.addChild(QTreeWidgetItem([f"… {len(node.children) - i} more spans left out"]))
            break
        item.addChild(_span_item(child, budget))
    return item
