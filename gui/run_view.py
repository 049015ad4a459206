"""One widget that draws any run record: live, finished, from the history, opened or compared.

A ``RunView`` holds the picture of one run — the title line, the legend, the requests and
threads timeline with its loop strip, the charts tab, the findings and stats, and the details
pane of the selected request — and nothing about how the run came to be. The main window, the
comparison and an opened file all show runs through it, so a run looks the same wherever it
appears. Several views may share one ``TimeAxis`` (the comparison stacks them so that a zoom
in one is a zoom in all).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QTabBar, QVBoxLayout, QWidget

from engine.findings.claims import at_defaults
from engine.loop_lane import loop_lane_key
from engine.phases import SPAN_PHASE
from engine.record import RunRecord
from engine.request_detail import RequestKey, key_for_server_only, key_for_span, request_detail
from engine.stats import RunStats, compute

from .charts_view import ChartsView
from .connection_strip import ConnectionStrip
from .details_pane import DetailsPane
from .stats_panel import StatsPanel
from .time_axis import TimeAxis
from .timeline_model import TimelineModel
from .timeline_view import REQUESTS, THREADS, Legend, LoopStrip, TimelineCanvas

CANVAS_MIN_H = 140  # px: axis, a few rows and the footer
DETAILS_MIN_H = 120  # px: the summary's head and a few span rows (the rest scrolls)
LIVE_GROWTH = 1.25  # without a planned length, a live run's view is this much longer than the run
TAB_REQUESTS, TAB_THREADS, TAB_CHARTS = 0, 1, 2


class RunView(QWidget):
    """The picture of one ``RunRecord``; ``stats=False`` leaves the stats column out (the
    comparison shows the stats side by side itself)."""

    selection_changed = Signal(object)  # RequestKey | None

    def __init__(
        self, axis: TimeAxis | None = None, stats: bool = True, details: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.record: RunRecord | None = None
        self.model: TimelineModel | None = None
        self.stats: RunStats | None = None
        self.selection: RequestKey | None = None
        self.axis = axis if axis is not None else TimeAxis()
        self.canvas = TimelineCanvas(self.axis)
        self.strip = LoopStrip(self.axis, self.canvas)
        self.connections_strip = ConnectionStrip(self.axis, self.canvas)  # PostgreSQL runs only
        self.charts = ChartsView()
        self.stats_panel = StatsPanel()
        self.stats_panel.setVisible(stats)
        self.details = DetailsPane()
        self.details.hide()  # shown when a request is selected
        self._details_enabled = details
        # Which run this is: the latest, one running, an earlier one, one opened from a file.
        self.showing = QLabel("No run yet: pick a demo and press Run.")
        self.showing.setStyleSheet("color:#555;")
        self.showing.setWordWrap(True)  # a long title must not widen the window
        self.view_tabs = QTabBar()
        self.view_tabs.addTab("Requests")
        self.view_tabs.addTab("Threads")
        self.view_tabs.addTab("Charts")
        self.view_tabs.setToolTip("Requests: one bar per request. Threads: one lane per server thread.")
        self._build_layout()
        self.view_tabs.currentChanged.connect(self._on_tab)
        self.canvas.clicked.connect(self._on_canvas_click)
        self.canvas.escape.connect(self.clear_selection)

    def _build_layout(self) -> None:
        self.timeline_column = QWidget()
        cl = QVBoxLayout(self.timeline_column)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.setSpacing(4)
        self.header = QVBoxLayout()  # the window's notices above the picture (errors, warnings)
        self.header.setSpacing(4)
        cl.addLayout(self.header)
        self.timeline = timeline = QWidget()
        tl = QVBoxLayout(timeline)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(4)
        tl.addWidget(self.showing)
        self.legend = Legend()
        tl.addWidget(self.legend)
        tl.addWidget(self.view_tabs)
        self.pages = QStackedWidget()
        picture = QWidget()
        pl = QVBoxLayout(picture)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(4)
        pl.addWidget(self.canvas, 1)
        pl.addWidget(self.strip)
        pl.addWidget(self.connections_strip)
        self.pages.addWidget(picture)
        self.pages.addWidget(self.charts)
        tl.addWidget(self.pages, 1)
        cl.addWidget(timeline, 1)
        self.stats_split = QSplitter(Qt.Orientation.Horizontal)
        self.stats_split.addWidget(self.timeline_column)
        self.stats_split.addWidget(self.stats_panel)
        # Every column gives way when the window narrows (the timeline most).
        self.stats_split.setStretchFactor(0, 3)
        self.stats_split.setStretchFactor(1, 1)
        self.stats_split.setSizes([700, 340])
        self.stats_panel.setMinimumWidth(240)
        # On a 768-pixel screen the timeline and the details pane must both fit: bars shrink first.
        self.canvas.setMinimumHeight(CANVAS_MIN_H)
        self.details.setMinimumHeight(DETAILS_MIN_H)
        # The selected request's details under the timeline and the stats, as wide as both.
        self.centre_split = QSplitter(Qt.Orientation.Vertical)
        self.centre_split.addWidget(self.stats_split)
        self.centre_split.addWidget(self.details)
        self.centre_split.setStretchFactor(0, 1)
        self.centre_split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.centre_split)

    def add_header(self, widget: QWidget) -> None:
        """Put a notice (an error, a warning banner) above the picture."""
        self.header.addWidget(widget)

    def _on_tab(self, index: int) -> None:
        if index == TAB_CHARTS:
            self.pages.setCurrentIndex(1)
            self._sync_charts()
        else:
            self.pages.setCurrentIndex(0)
            self.canvas.set_mode(THREADS if index == TAB_THREADS else REQUESTS)

    def _sync_charts(self) -> None:
        """The charts of the finished run shown (computed when their tab is looked at)."""
        if self.pages.currentWidget() is self.charts:
            finished = self.record is not None and self.stats is not None
            self.charts.set_records([self.record] if finished else [])

    # -- live and finished ---------------------------------------------------------------

    def show_live(self, record: RunRecord) -> TimelineModel:
        """Start drawing a run that is going; returns the live model the frames refresh."""
        self.clear_selection()
        self.record = record
        self.stats = None
        self.model = TimelineModel(record)
        self.canvas.set_model(self.model)
        self.strip.set_model(self.model)
        self.connections_strip.set_model(self.model)
        self._sync_charts()
        self.axis.fit(max(100.0, (record.config.planned_duration_s or 0) * 1000))
        return self.model

    def refresh_live(self) -> None:
        """One frame of a live run: take in what arrived, follow the run's end, repaint."""
        model, record = self.model, self.record
        if model is None or record is None:
            return
        model.refresh()
        if self.axis.follow:
            planned = (record.config.planned_duration_s or 0) * 1000
            span = max(model.span_ms, planned, 100.0)
            # Without a planned length the window grows in steps, not every frame: an unchanged
            # axis lets the canvas add only the new bars to what it drew (a full redraw costs more).
            if planned or span * 1.02 > self.axis.t1 or self.axis.t0 != 0.0:
                self.axis.fit(span if planned else span * LIVE_GROWTH)
        # One synchronous paint of both widgets (and whatever else is dirty), not one each.
        self.strip.update()
        self.connections_strip.update()
        self.canvas.repaint()

    def show_record(
        self,
        record: RunRecord,
        stats: RunStats | None = None,
        model: TimelineModel | None = None,
        title: str | None = None,
        past: bool = False,
        fit: bool = True,
    ) -> None:
        """Draw a finished run; ``past`` marks it as not the latest (its title stands out)."""
        same = self.record is record
        self.record = record
        self.model = model if model is not None else TimelineModel.of_finished(record)
        self.stats = stats or compute(record)
        self.canvas.set_model(self.model)
        self.strip.set_model(self.model)
        self.connections_strip.set_model(self.model)
        if fit:
            self.axis.fit(self.model.span_ms)
        note = "Stopped: the record is partial." if record.stopped else ""
        note += "\n".join(record.notes)
        self.stats_panel.show_stats(self.stats, note, at_defaults(record.config))
        self._sync_charts()
        if title is not None:
            self.showing.setText(title)
        self.showing.setStyleSheet("color:#7a4b00; font-weight:600;" if past else "")
        if same and self.selection is not None:
            self.select_request(self.selection)  # a request picked while the run was live
        else:
            self.clear_selection()

    def show_running(self, note: str) -> None:
        self.stats_panel.show_stats(None, note)

    # -- selection ---------------------------------------------------------------------------

    def _on_canvas_click(self, hit: object) -> None:
        """A click on the timeline: select the request under it, or clear on empty space."""
        record, model = self.record, self.model
        if record is None or model is None or hit is None:
            self.clear_selection()
            return
        key: RequestKey | None
        if isinstance(hit, tuple):
            lane, span = hit
            key = key_for_span(record, model.lane_ids[lane], span.start_ns, span.end_ns)
            if key is None and lane == 0:  # the measured loop lane: whose code ran there
                key = loop_lane_key(record, (span.start_ns + span.end_ns) // 2)
        elif hit.client_id is not None:
            key = (hit.client_id, None)
        else:
            key = key_for_server_only(record, hit.start_ns, hit.path)
        if key is None:
            self.clear_selection()
        else:
            self.select_request(key)

    def select_request(self, key: RequestKey) -> bool:
        """Show one request of the shown run in the details pane and outline it in both views."""
        detail = request_detail(self.record, *key) if self.record is not None else None
        if detail is None:
            self.clear_selection()
            return False
        self.selection = key
        if self._details_enabled and not self.details.isVisible():
            self.details.show()
            total = sum(self.centre_split.sizes()) or self.centre_split.height()
            # What the timeline column needs at its width (wrapped lines included), so opening
            # the pane never squeezes the timeline under its strip.
            column = self.timeline_column
            need = column.layout().minimumHeightForWidth(column.width())
            top = max(self.stats_split.minimumSizeHint().height(), need, total * 3 // 5)
            self.centre_split.setSizes([top, max(0, total - top)])
        self.details.show_detail(detail)  # once shown: its columns are sized to its real width
        self._sync_highlight(detail)
        self.selection_changed.emit(key)
        return True

    def clear_selection(self) -> None:
        self.selection = None
        self.details.show_detail(None)
        self.details.hide()
        self.canvas.set_highlight([], [])
        self.selection_changed.emit(None)

    def _sync_highlight(self, detail: Any) -> None:
        """Where the selected request is drawn: its bar (requests view), its spans (threads view)."""
        model = self.model
        if model is None:
            self.canvas.set_highlight([], [])
            return
        bars = []
        root = detail.spans[0] if detail.spans else None
        for bar in (*model.bars, *model.live_bars):
            if (
                bar.client_id == detail.client_id
                if detail.client_id is not None
                else bar.client_id is None and root is not None and bar.start_ns == root.start_ns
            ):
                bars.append((bar.row, model.ms(bar.start_ns), model.ms(bar.end_ns)))
                break
        lane_of = {tid: i for i, tid in enumerate(model.lane_ids)}
        loop_tid = self.record.loop_thread_id if self.record is not None else None
        spans = []
        for node in root.walk()[1:] if root is not None else []:
            lane = lane_of.get(node.thread_id)
            if lane is None or node.kind not in SPAN_PHASE:  # request-level phases have no lane
                continue
            if node.kind == "hop-wait" and node.thread_id != loop_tid:
                continue
            spans.append((lane, model.ms(node.start_ns), model.ms(node.end_ns)))
        self.canvas.set_highlight(bars, spans)

    def timeline_pixmap(self) -> Any:
        """The picture as it is on screen (title, legend, timeline, strip), for the PNG export."""
        return self.timeline.grab()
