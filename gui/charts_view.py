"""The charts over a run's time, as load-testing tools draw them (Locust's three charts, oha's
histogram): requests per second, latency p50/p95/p99, requests in flight, and the latency
histogram. Several runs overlay, one colour per run, on one bucket size and one set of bins.

The numbers come from ``engine.charts``; this widget only paints them.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QToolTip, QWidget

from engine.charts import Histogram, Series, common_bucket_ms, common_histograms, time_series
from engine.compare import fmt_duration_ms
from engine.record import RunRecord

from .time_axis import format_ms, nice_step

RUN_COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a")  # one per run in a comparison
PERCENTILES = (("p50", "#2e7d32", Qt.PenStyle.SolidLine), ("p95", "#f9a825", Qt.PenStyle.SolidLine))
PERCENTILES += (("p99", "#c62828", Qt.PenStyle.SolidLine),)
# Overlaid runs: one colour each, the percentile told by the line's style.
OVERLAY_STYLES = {"p50": Qt.PenStyle.DotLine, "p95": Qt.PenStyle.DashLine, "p99": Qt.PenStyle.SolidLine}
SINGLE_COLOURS = {"rps": "#1565c0", "in_flight_max": "#6a1b9a", "histogram": "#455a64"}
LEGEND_H = 22
PANEL_GAP = 10
LEFT = 58  # room for the value labels
BOTTOM = 20  # room for the time labels
TITLE_H = 18


class ChartsView(QWidget):
    """Four panels over the runs set with ``set_records`` (one run, or 2–4 overlaid)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.labels: list[str] = []
        self.series: list[Series] = []
        self.histograms: list[Histogram] = []
        self.setMinimumSize(320, 260)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_records(self, records: list[RunRecord], labels: list[str] | None = None) -> None:
        """Show these runs (computed now: the charts cost a few ms per thousand requests)."""
        if [id(r) for r in records] == [id(r) for r in self.records] and labels == self.labels:
            return
        self.records = list(records)
        self.labels = list(labels) if labels is not None else [r.config.target for r in records]
        size = common_bucket_ms(self.records) if self.records else None
        self.series = [time_series(r, size) for r in self.records]
        self.histograms = common_histograms(self.records)
        self.update()

    @property
    def overlay(self) -> bool:
        return len(self.records) > 1

    def panels(self) -> dict[str, QRectF]:
        """Where each chart is drawn: a 2 × 2 grid under the legend."""
        w, h = self.width(), self.height()
        top = LEGEND_H
        cw = (w - PANEL_GAP) / 2
        ch = (h - top - PANEL_GAP) / 2
        return {
            "rps": QRectF(0, top, cw, ch),
            "latency": QRectF(cw + PANEL_GAP, top, cw, ch),
            "in_flight": QRectF(0, top + ch + PANEL_GAP, cw, ch),
            "histogram": QRectF(cw + PANEL_GAP, top + ch + PANEL_GAP, cw, ch),
        }

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        try:
            self.paint(p)
        finally:
            p.end()

    def paint(self, p: QPainter) -> None:
        p.fillRect(self.rect(), QColor("#ffffff"))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        p.setFont(small)
        if not self.records:
            p.setPen(QColor("#777"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The charts appear when the run is over.")
            return
        self._paint_legend(p)
        panels = self.panels()
        span = max(s.span_ms for s in self.series) or 1.0
        self._paint_time_chart(p, panels["rps"], "Requests per second (completed)", span, "rps", "{:,.0f}")
        self._paint_latency(p, panels["latency"], span)
        self._paint_time_chart(
            p, panels["in_flight"], "Requests in flight (most in each bucket)", span, "in_flight_max"
        )
        self._paint_histogram(p, panels["histogram"])

    def _paint_legend(self, p: QPainter) -> None:
        x = 4.0
        if self.overlay:
            items = [
                (label, RUN_COLOURS[i % len(RUN_COLOURS)], Qt.PenStyle.SolidLine) for i, label in enumerate(self.labels)
            ]
            items += [(name, "#555555", style) for name, style in OVERLAY_STYLES.items()]
        else:
            items = [(name, colour, style) for name, colour, style in PERCENTILES]
        fm = p.fontMetrics()
        for text, colour, style in items:
            pen = QPen(QColor(colour), 2.5)
            pen.setStyle(style)
            p.setPen(pen)
            p.drawLine(QPointF(x, LEGEND_H / 2), QPointF(x + 22, LEGEND_H / 2))
            p.setPen(QColor("#333"))
            p.drawText(QPointF(x + 26, LEGEND_H / 2 + fm.ascent() / 2 - 1), text)
            x += 26 + fm.horizontalAdvance(text) + 14

    def _frame(self, p: QPainter, panel: QRectF, title: str) -> QRectF:
        p.setPen(QColor("#222"))
        p.drawText(QRectF(panel.left() + LEFT, panel.top(), panel.width() - LEFT, TITLE_H), title)
        area = QRectF(
            panel.left() + LEFT, panel.top() + TITLE_H, panel.width() - LEFT - 6, panel.height() - TITLE_H - BOTTOM
        )
        p.fillRect(area, QColor("#fafafa"))
        p.setPen(QPen(QColor("#bbb"), 0))
        p.drawRect(area)
        return area

    def _y_grid(self, p: QPainter, area: QRectF, top: float, fmt: str) -> None:
        step = nice_step(top, 4) if top > 0 else 1.0
        fm = p.fontMetrics()
        v = 0.0
        while v <= top * 1.0001:
            y = area.bottom() - v / top * area.height() if top > 0 else area.bottom()
            p.setPen(QPen(QColor("#e6e6e6"), 0))
            p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            p.setPen(QColor("#555"))
            text = fmt.format(v)
            p.drawText(QPointF(area.left() - 4 - fm.horizontalAdvance(text), y + fm.ascent() / 2 - 1), text)
            v += step

    def _x_grid(self, p: QPainter, area: QRectF, span: float) -> None:
        step = nice_step(span, max(2, int(area.width() / 70)))
        fm = p.fontMetrics()
        t = 0.0
        while t <= span:
            x = area.left() + t / span * area.width()
            p.setPen(QPen(QColor("#eeeeee"), 0))
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            p.setPen(QColor("#555"))
            text = format_ms(t, step)
            p.drawText(QPointF(x - fm.horizontalAdvance(text) / 2, area.bottom() + fm.ascent() + 3), text)
            t += step

    def _line(
        self, p: QPainter, area: QRectF, points: list[tuple[float, float]], span: float, top: float, pen: QPen
    ) -> None:
        """A line through bucket midpoints; a gap where a bucket has no value (nothing completed)."""
        p.setPen(pen)
        run: list[QPointF] = []
        for t, v in [*points, (math.nan, math.nan)]:
            if math.isnan(v):
                if len(run) == 1:
                    p.drawEllipse(run[0], 1.5, 1.5)
                elif run:
                    p.drawPolyline(QPolygonF(run))
                run = []
                continue
            run.append(QPointF(area.left() + t / span * area.width(), area.bottom() - v / top * area.height()))

    def _paint_time_chart(
        self, p: QPainter, panel: QRectF, title: str, span: float, key: str, fmt: str = "{:,.0f}"
    ) -> None:
        area = self._frame(p, panel, title)
        values = [[getattr(b, key) for b in s.buckets] for s in self.series]
        top = _headroom(max((v for vs in values for v in vs), default=0.0))
        self._y_grid(p, area, top, fmt)
        self._x_grid(p, area, span)
        for i, (s, vs) in enumerate(zip(self.series, values, strict=True)):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)] if self.overlay else SINGLE_COLOURS[key]
            points = [((b.start_ms + min(b.end_ms, s.span_ms)) / 2, v) for b, v in zip(s.buckets, vs, strict=True)]
            self._line(p, area, points, span, top, QPen(QColor(colour), 2))

    def _paint_latency(self, p: QPainter, panel: QRectF, span: float) -> None:
        area = self._frame(p, panel, "Latency of the requests completed in each bucket (ms)")
        top = _headroom(max((b.p99_ms or 0.0 for s in self.series for b in s.buckets), default=0.0))
        self._y_grid(p, area, top, "{:,.0f}")
        self._x_grid(p, area, span)
        for i, s in enumerate(self.series):
            for name, colour, style in PERCENTILES:
                pen = QPen(QColor(RUN_COLOURS[i % len(RUN_COLOURS)] if self.overlay else colour), 2)
                pen.setStyle(OVERLAY_STYLES[name] if self.overlay else style)
                points = [
                    (
                        (b.start_ms + min(b.end_ms, s.span_ms)) / 2,
                        v if (v := getattr(b, f"{name}_ms")) is not None else math.nan,
                    )
                    for b in s.buckets
                ]
                self._line(p, area, points, span, top, pen)

    def _paint_histogram(self, p: QPainter, panel: QRectF) -> None:
        area = self._frame(p, panel, "Latency histogram (requests per bin, log-spaced bins)")
        hists = [h for h in self.histograms if h.counts]
        if not hists:
            return
        edges = hists[0].edges_ms
        top = _headroom(max(max(h.counts) for h in hists))
        self._y_grid(p, area, top, "{:,.0f}")
        lo, hi = edges[0], edges[-1]
        log_lo, log_span = math.log(lo), max(1e-9, math.log(hi) - math.log(lo)) if hi > lo else 1.0

        def x_of(ms: float) -> float:
            if hi <= lo:
                return area.left() + (0.1 if ms <= lo else 0.9) * area.width()
            return area.left() + (math.log(ms) - log_lo) / log_span * area.width()

        fm = p.fontMetrics()
        for ms in (lo, math.sqrt(lo * hi) if hi > lo else hi, hi):
            text = fmt_duration_ms(ms)
            x = min(
                max(area.left(), x_of(ms) - fm.horizontalAdvance(text) / 2), area.right() - fm.horizontalAdvance(text)
            )
            p.setPen(QColor("#555"))
            p.drawText(QPointF(x, area.bottom() + fm.ascent() + 3), text)
        for i, h in enumerate(self.histograms):
            if not h.counts:
                continue
            colour = QColor(RUN_COLOURS[i % len(RUN_COLOURS)] if self.overlay else SINGLE_COLOURS["histogram"])
            for j, count in enumerate(h.counts):
                if not count:
                    continue
                x0, x1 = x_of(h.edges_ms[j]), x_of(h.edges_ms[j + 1])
                y = area.bottom() - count / top * area.height()
                rect = QRectF(x0, y, max(1.0, x1 - x0 - 1), area.bottom() - y)
                if self.overlay:  # outlines, so every run stays visible where they overlap
                    fill = QColor(colour)
                    fill.setAlpha(50)
                    p.fillRect(rect, fill)
                    p.setPen(QPen(colour, 1.5))
                    p.drawRect(rect)
                else:
                    p.fillRect(rect, colour)

    # -- hover -------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos().x(), event.pos().y())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_at(self, x: float, y: float) -> str:
        """The bucket under the pointer in a time chart, every run's numbers for it."""
        if not self.series:
            return ""
        for key, panel in self.panels().items():
            if key == "histogram" or not panel.contains(QPointF(x, y)):
                continue
            area = QRectF(
                panel.left() + LEFT, panel.top() + TITLE_H, panel.width() - LEFT - 6, panel.height() - TITLE_H - BOTTOM
            )
            if not area.contains(QPointF(x, y)):
                return ""
            span = max(s.span_ms for s in self.series) or 1.0
            t = (x - area.left()) / area.width() * span
            lines = []
            for label, s in zip(self.labels, self.series, strict=True):
                index = min(len(s.buckets) - 1, int(t / s.bucket_ms))
                b = s.buckets[index]
                lat = " / ".join("–" if v is None else fmt_duration_ms(v) for v in (b.p50_ms, b.p95_ms, b.p99_ms))
                lines.append(
                    f"{label} {format_ms(b.start_ms, s.bucket_ms)}–{format_ms(b.end_ms, s.bucket_ms)}: "
                    f"{b.completed} completed ({b.rps:,.1f}/s, {b.errors} failed), "
                    f"p50/p95/p99 {lat}, up to {b.in_flight_max} in flight"
                )
            return "\n".join(lines)
        return ""


def _headroom(top: float) -> float:
    """The y axis' top: a little above the highest value, at least 1."""
    return max(1.0, top * 1.1)
