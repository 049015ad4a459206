"""The timeline widgets: request bars or thread lanes (one canvas), and the loop strip under it.

One custom QWidget paints batched rectangles per colour through a QTransform, so Qt does
the per-rectangle work in C++; Python only picks which prebuilt lists are visible
(see ``geometry.Layers``).  Both widgets read the shared ``TimeAxis``, so they stay aligned.
"""

from __future__ import annotations

import bisect
import html

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QShortcut,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QLabel, QToolTip, QWidget

from engine.loop_lane import activity_at, metered
from engine.phases import MARKS, PHASE_HELP, PHASES, Phase, RequestBar
from engine.stall_at import stall_at

from . import theme
from .flow_layout import FlowLayout
from .time_axis import TimeAxis, format_ms, nice_step
from .timeline_model import BAR_HEIGHT, FAILED, TimelineModel

REQUESTS, THREADS = "requests", "threads"
AXIS_H = 20
FOOTER_H = 20  # the requests view's one-line summary sits under the bars, never over them
LANE_GUTTER = 200
BAR_GUTTER = 10
SELECTION_COLOUR = QColor("#111111")  # no phase is this dark, so the outline never reads as one
CLICK_SLOP_PX = 4  # a press and release this close together is a click, not a drag
BLOCKED_BAND_H = 5  # the hatched band between the time labels and the first row
STRIP_LABEL_H = 13  # the loop strip's label band above each curve (requests view)
SEPARATOR_LIMIT = 4000  # ticks between requests are drawn only when about this few bars are in view


def _cosmetic(colour: QColor, width: int = 0) -> QPen:
    pen = QPen(colour)
    pen.setCosmetic(True)
    pen.setWidth(width)
    return pen


def draw_time_grid(p: QPainter, axis: TimeAxis, area: QRectF, labels: bool) -> None:
    """Vertical grid lines every 'nice' step, with labels along the top when asked."""
    step = nice_step(axis.span, max(2, int(area.width() / 90)))
    sx = area.width() / axis.span
    t = (axis.t0 // step) * step
    p.setFont(QFont(p.font().family(), 8))
    while t <= axis.t1:
        x = area.left() + (t - axis.t0) * sx
        if x >= area.left():
            p.setPen(theme.GRID_COLOUR)
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            if labels and x + 44 <= area.right() + 8:  # a label cut at the edge reads as a wrong number
                p.setPen(theme.AXIS_TEXT)
                p.drawText(QPointF(x + 3, area.top() - 6), format_ms(t, step))
        t += step


def pixel_bands(
    intervals: list[tuple[float, float]], t0: float, t1: float, sx: float, left: float, top: float, height: float
) -> list[QRectF]:
    """Time intervals (ms, in time order) in view as full-height bands, at least a pixel wide,
    those less than a pixel apart fused: a stall is never lost, a thousand cost a few rectangles."""
    out: list[QRectF] = []
    last_x0 = last_x1 = None
    for a, b in intervals:
        if b < t0 or a > t1:
            continue
        x0, x1 = left + (a - t0) * sx, left + (b - t0) * sx
        x1 = max(x1, x0 + 1.0)
        if last_x1 is not None and x0 <= last_x1 + 1.0:
            last_x1 = max(last_x1, x1)
            continue
        if last_x0 is not None:
            out.append(QRectF(last_x0, top, last_x1 - last_x0, height))
        last_x0, last_x1 = x0, x1
    if last_x0 is not None:
        out.append(QRectF(last_x0, top, last_x1 - last_x0, height))
    return out


class TimelineCanvas(QWidget):
    """Bars per request (rows packed so height = concurrency) or spans per server thread."""

    mode_changed = Signal(str)
    # A click that did not drag: the RequestBar under it (requests view), (lane, Phase) (threads
    # view), or None (nothing there).
    clicked = Signal(object)
    escape = Signal()  # Esc reached the canvas (no enabled shortcut took it)

    def __init__(self, axis: TimeAxis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis = axis
        self.model: TimelineModel | None = None
        self.mode = REQUESTS
        self.v_offset = 0.0
        self._drag: tuple[float, float, float, float] | None = None
        self._press: tuple[float, float] | None = None
        # The selected request, outlined: per view, (row or lane, start ms, end ms) rectangles.
        self.highlight: dict[str, list[tuple[int, float, float]]] = {REQUESTS: [], THREADS: []}
        self.setMouseTracking(True)
        self.setMinimumHeight(220)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paint() covers every pixel
        # While a run is live (requests view): the grid and the finished bars drawn so far, kept
        # as an image so a frame only adds the bars that finished since (see ``_paint_live``).
        self._cache: QImage | None = None
        self._cache_key: tuple[object, ...] | None = None
        self._cache_pos = (0, 0)
        self._live_rows = 0  # rows laid out while live: grows in steps ahead of the model's rows
        self.outlier_shown: RequestBar | None = None  # the outlier "next outlier" (N) last showed
        next_key = QShortcut(QKeySequence("N"), self)
        next_key.setContext(Qt.ShortcutContext.WindowShortcut)
        next_key.activated.connect(self.next_outlier)
        axis.changed.connect(self.update)

    # -- geometry ---------------------------------------------------------------------

    @property
    def gutter(self) -> int:
        return LANE_GUTTER if self.mode == THREADS else BAR_GUTTER

    def data_rect(self) -> QRectF:
        footer = 4 if self.mode == THREADS else FOOTER_H
        return QRectF(
            self.gutter, AXIS_H, max(10, self.width() - self.gutter - 8), max(10, self.height() - AXIS_H - footer)
        )

    def row_count(self) -> int:
        if self.model is None:
            return 0
        if self.mode == THREADS:
            return len(self.model.lane_ids)
        if self.model.complete:
            return self.model.rows
        # Live, the rows' height changes in steps as rows are added, not with each new row: every
        # change redraws all the bars, where an unchanged view only adds the new ones.
        if self.model.rows > self._live_rows:
            self._live_rows = max(8, -(-self.model.rows * 5 // 4))
        return self._live_rows

    def row_height(self) -> float:
        rows = max(1, self.row_count())
        h = self.data_rect().height()
        if self.mode == THREADS:
            return max(18.0, min(30.0, h / rows))
        return min(24.0, h / rows)

    def set_model(self, model: TimelineModel | None) -> None:
        self.model = model
        self.v_offset = 0.0
        self._live_rows = 0
        self.outlier_shown = None
        self.update()

    def set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.v_offset = 0.0
            self.update()
            self.mode_changed.emit(mode)

    def t_of(self, x: float) -> float:
        area = self.data_rect()
        return self.axis.t0 + (x - area.left()) / area.width() * self.axis.span

    def row_of(self, y: float) -> tuple[int, float]:
        rh = self.row_height()
        offset = (y - self.data_rect().top()) / rh
        if self.mode == THREADS and offset < 1:  # the event loop's lane is pinned at the top
            return (0 if offset >= 0 else -1), offset - int(offset)
        pos = (y - self.data_rect().top() + self.v_offset) / rh
        return int(pos), pos - int(pos)

    # -- painting -----------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        try:
            self.paint(p)
        finally:
            p.end()

    def paint(self, p: QPainter) -> None:
        """Everything in one pass; split out so the bench and PNG export can paint offscreen.

        Order: white, grid, the blocked shading *behind* the bars (a bar keeps its legend
        colour), the bars, then marks beside or between them (outliers, separators, first bytes)
        and a hatched band over the time axis where the loop was blocked."""
        area = self.data_rect()
        model = self.model
        cached = model is not None and self.mode == REQUESTS and not model.complete
        sx = area.width() / self.axis.span
        p.fillRect(self.rect(), QColor("white"))
        if model is not None:
            self._paint_blocked_behind(p, model, area, sx)
        if not cached:
            draw_time_grid(p, self.axis, area, labels=True)
            if model is not None and self.mode == THREADS:
                self._paint_lane_stripes(p, model, area)
        if model is None:
            p.setPen(theme.AXIS_TEXT)
            p.drawText(
                area, Qt.AlignmentFlag.AlignCenter, "Press Run (Ctrl+R): the requests appear here live, one bar each."
            )
            return
        rh = self.row_height()
        transform = QTransform(sx, 0, 0, rh, area.left() - self.axis.t0 * sx, area.top() - self.v_offset)
        if cached:
            self._paint_cached(p, model, area, transform, rh)
        else:
            self._cache = self._cache_key = None
        p.save()
        p.setClipRect(area)
        p.setTransform(transform)
        if not cached:
            if self.mode == THREADS and self.v_offset > 0:
                self._paint_pinned_lanes(p, model, area, transform, sx, rh)
            else:
                self._paint_finished_bars(p, model, sx, rh)
        if self.mode == REQUESTS:
            for key, rects in model.live_rects:
                c = theme.colour(key)
                p.setPen(_cosmetic(c))
                p.setBrush(c)
                p.drawRects(rects)
            if not cached:
                self._paint_failed(p, model.failed_layer.visible(self.axis.t0, self.axis.t1)[1])
            self._paint_children(p, model, sx)
            self._paint_separators(p, model, sx)
            self._paint_first_bytes(p, model, sx)
        p.resetTransform()
        self._paint_selection(p, area, sx, rh)
        if self.mode == REQUESTS:
            self._paint_outliers(p, model, area, sx, rh)
        if not model.complete:
            x = area.left() + (model.span_ms - self.axis.t0) * sx
            p.setPen(QPen(QColor("#444"), 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        p.restore()
        self._paint_blocked_band(p, model, area, sx)
        if self.mode == THREADS:
            self._paint_lane_labels(p, area, rh)
        elif model.rows:
            n = len(model.outliers)
            outliers = f" · {n} outlier{'s' if n != 1 else ''} (N: next)" if n else ""
            text = (
                f"{model.request_count} requests · {model.rows} rows (height = overlap){outliers} · "
                "wheel: zoom · drag: pan · double-click: fit"
            )
            p.setPen(theme.AXIS_TEXT)
            p.setFont(QFont(p.font().family(), 8))
            p.drawText(
                QRectF(area.left(), area.bottom() + 2, area.width(), FOOTER_H - 2),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )

    def _blocked_visible(self, model: TimelineModel, area: QRectF, sx: float) -> list[QRectF]:
        """The blocked intervals in view, as x ranges over the full height of ``area``."""
        return pixel_bands(model.blocked, self.axis.t0, self.axis.t1, sx, area.left(), area.top(), area.height())

    def _paint_blocked_behind(self, p: QPainter, model: TimelineModel, area: QRectF, sx: float) -> None:
        """A light tint and dashed edges on the background only: the bars are drawn over them."""
        p.save()
        p.setClipRect(area)
        bands = self._blocked_visible(model, area, sx)
        for band in bands:  # whole pixels: the raster engine fills those fast, a fractional one slowly
            p.fillRect(band.toAlignedRect(), theme.BLOCKED_SHADE)
        for band in bands:
            if band.width() >= 6:  # edges on a narrow band would only add noise
                p.setPen(QPen(theme.BLOCKED_EDGE, 1, Qt.PenStyle.DashLine))
                p.drawLine(band.topLeft(), band.bottomLeft())
                p.drawLine(band.topRight(), band.bottomRight())
        p.restore()

    def _paint_lane_stripes(self, p: QPainter, model: TimelineModel, area: QRectF) -> None:
        """Every other lane lightly tinted, behind the spans; the pinned loop lane tinted blue."""
        rh = self.row_height()
        p.save()
        p.setClipRect(QRectF(area.left(), area.top() + rh, area.width(), area.height() - rh))
        for i in range(2, len(model.lane_labels), 2):
            y = area.top() + i * rh - self.v_offset
            if area.top() <= y + rh and y <= area.bottom():
                p.fillRect(QRectF(area.left(), y, area.width(), rh), QColor(0, 0, 0, 10))
        p.restore()
        if model.lane_labels:
            p.fillRect(QRectF(area.left(), area.top(), area.width(), rh), QColor(27, 58, 102, 18))

    def _paint_blocked_band(self, p: QPainter, model: TimelineModel, area: QRectF, sx: float) -> None:
        """A hatched band between the time labels and the first row, outside the bars, that no bar
        can hide: where the event loop could not run."""
        bands = self._blocked_visible(model, area, sx)
        if not bands:
            return
        p.save()
        p.setClipRect(QRectF(area.left(), 0, area.width(), area.top()))
        p.setPen(Qt.PenStyle.NoPen)
        hatch = QBrush(theme.BLOCKED_BAND, Qt.BrushStyle.BDiagPattern)
        for b in bands:
            strip = QRectF(b.left(), area.top() - BLOCKED_BAND_H, b.width(), BLOCKED_BAND_H).toAlignedRect()
            p.fillRect(strip, QColor("white"))
            p.fillRect(strip, hatch)
            p.fillRect(strip.adjusted(0, strip.height() - 1, 0, 0), theme.BLOCKED_BAND)
        p.restore()

    def _paint_finished_bars(self, p: QPainter, model: TimelineModel, sx: float, rh: float) -> None:
        layers = model.lane_layers if self.mode == THREADS else model.bar_layers
        eps, batches = layers.visible(self.axis.t0, self.axis.t1, 1.0 / sx)
        # An outline of the fill colour keeps sub-pixel spans visible; when every rectangle
        # is already about a pixel wide and tall it only costs time, so it is left out.
        outline = eps * sx < 0.7 or rh * BAR_HEIGHT < 1.5
        for key, rects in batches:
            c = theme.colour(key)
            p.setPen(_cosmetic(c) if outline else Qt.PenStyle.NoPen)
            p.setBrush(c)
            p.drawRects(rects)

    def _paint_pinned_lanes(
        self, p: QPainter, model: TimelineModel, area: QRectF, transform: QTransform, sx: float, rh: float
    ) -> None:
        """Threads view scrolled: the lanes under the pinned one scroll, the event loop's stays on top."""
        p.save()
        p.resetTransform()
        below = QRectF(area.left(), area.top() + rh, area.width(), area.height() - rh)
        p.setClipRect(below, Qt.ClipOperation.IntersectClip)
        p.setTransform(transform)
        self._paint_finished_bars(p, model, sx, rh)
        p.restore()
        p.save()
        p.resetTransform()
        p.setClipRect(QRectF(area.left(), area.top(), area.width(), rh))
        p.setTransform(QTransform(transform.m11(), 0, 0, rh, transform.dx(), area.top()))
        eps, batches = model.lane_layers.visible(self.axis.t0, self.axis.t1, 1.0 / sx)
        outline = eps * sx < 0.7
        for key, rects in batches:
            loop_rects = [r for r in rects if r.top() < 1]
            if loop_rects:
                c = theme.colour(key)
                p.setPen(_cosmetic(c) if outline else Qt.PenStyle.NoPen)
                p.setBrush(c)
                p.drawRects(loop_rects)
        p.restore()

    def _paint_children(self, p: QPainter, model: TimelineModel, sx: float) -> None:
        """Upstream calls, as thin stripes in the lower half of the bar of the request that made them."""
        if not model.child_layers.count:
            return
        eps, batches = model.child_layers.visible(self.axis.t0, self.axis.t1)
        for key, rects in batches:
            c = theme.colour(key)
            p.setPen(_cosmetic(c))
            p.setBrush(c)
            p.drawRects(rects)

    def _visible_row_bars(self, model: TimelineModel, limit: int) -> list[list[RequestBar]] | None:
        """Per row, the settled bars starting in view; None if there are more than ``limit``, or so
        many that they are only a few pixels wide (then no tick between them could be seen)."""
        limit = int(min(limit, self.data_rect().width() * max(1, len(model.row_starts)) / 8))
        t0 = model.origin + int(self.axis.t0 * 1e6)
        t1 = model.origin + int(self.axis.t1 * 1e6)
        out, total = [], 0
        for starts, bars in zip(model.row_starts, model.row_bars):
            lo, hi = bisect.bisect_left(starts, t0), bisect.bisect_right(starts, t1)
            total += hi - lo
            if total > limit:
                return None
            out.append(bars[max(0, lo - 1) : hi])
        return out

    def _paint_separators(self, p: QPainter, model: TimelineModel, sx: float) -> None:
        """A white tick where a request starts within a pixel of the end of the one before it in its
        row: two requests back to back never read as one long one."""
        rows = self._visible_row_bars(model, SEPARATOR_LIMIT)
        if rows is None:
            return
        px = 1.0 / sx
        lines = []
        for bars in rows:
            for a, b in zip(bars, bars[1:]):
                x = model.ms(b.start_ns)
                if x - model.ms(a.end_ns) <= px and model.ms(b.end_ns) - x >= 2 * px:
                    lines.append(QLineF(x, b.row, x, b.row + BAR_HEIGHT))
        if lines:
            p.setPen(_cosmetic(theme.SEPARATOR, 1))
            p.drawLines(lines)

    def _paint_first_bytes(self, p: QPainter, model: TimelineModel, sx: float) -> None:
        """A dark tick where the client got the first byte, when that is visibly before the end
        (a streamed response: time to first byte vs. total), and a short one where each further
        chunk left the server."""
        rows = self._visible_row_bars(model, SEPARATOR_LIMIT)
        if rows is None:
            return
        lines, chunks = [], []
        for bars in rows:
            for b in bars:
                if b.first_byte_ns is not None and (b.end_ns - b.first_byte_ns) / 1e6 * sx >= 4:
                    x = model.ms(b.first_byte_ns)
                    lines.append(QLineF(x, b.row, x, b.row + BAR_HEIGHT))
                last = None
                for t in b.chunks_ns:
                    x = model.ms(t)
                    if last is None or (x - last) * sx >= 3:
                        chunks.append(QLineF(x, b.row, x, b.row + BAR_HEIGHT * 0.4))
                        last = x
        if chunks:
            p.setPen(_cosmetic(theme.FIRST_BYTE_COLOUR, 1))
            p.drawLines(chunks)
        if lines:
            p.setPen(_cosmetic(theme.FIRST_BYTE_COLOUR, 2))
            p.drawLines(lines)

    def _paint_outliers(self, p: QPainter, model: TimelineModel, area: QRectF, sx: float, rh: float) -> None:
        """A marker in the gutter at each outlier's row and a ring around its bar (at least a few
        pixels wide, so a 3 px bar in row 101 is still found); the bar itself is not recoloured."""
        if not model.outliers:
            return
        t0, t1 = self.axis.t0, self.axis.t1
        p.save()
        p.setClipRect(QRectF(0, area.top(), self.width(), area.height()))
        p.setBrush(theme.OUTLIER_COLOUR)
        for bar in model.outliers:
            a, b = model.ms(bar.start_ns), model.ms(bar.end_ns)
            if b < t0 or a > t1:
                continue
            y = area.top() + bar.row * rh - self.v_offset
            mid = y + rh * BAR_HEIGHT / 2
            p.setPen(Qt.PenStyle.NoPen)
            p.drawPolygon(QPolygonF([QPointF(1, mid - 4), QPointF(8, mid), QPointF(1, mid + 4)]))
            x0, x1 = area.left() + (a - t0) * sx, area.left() + (b - t0) * sx
            if x1 - x0 < 6:
                x0, x1 = (x0 + x1) / 2 - 3, (x0 + x1) / 2 + 3
            selected = bar is self.outlier_shown
            p.setPen(_cosmetic(theme.OUTLIER_COLOUR, 3 if selected else 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x0 - 2, y - 2, x1 - x0 + 4, rh * BAR_HEIGHT + 4))
            p.setBrush(theme.OUTLIER_COLOUR)
        p.restore()

    def next_outlier(self) -> RequestBar | None:
        """Show the next outlier after the one shown (or after the view's start): zoom to it."""
        model = self.model
        if model is None or not model.outliers:
            return None
        after = model.ms(self.outlier_shown.start_ns) if self.outlier_shown is not None else self.axis.t0 - 1e-6
        bar = model.next_outlier(after)
        if bar is None:
            return None
        if self.mode != REQUESTS:
            self.set_mode(REQUESTS)
        a, b = model.ms(bar.start_ns), model.ms(bar.end_ns)
        pad = max((b - a) / 4, 2.0)  # the request fills most of the view, however short it is
        self.outlier_shown = bar
        self.axis.show(max(0.0, a - pad), b + pad)
        self.update()
        return bar

    @staticmethod
    def _paint_failed(p: QPainter, batches: list[tuple[str, list[QRectF]]]) -> None:
        p.setPen(_cosmetic(theme.FAILED_COLOUR, 2))
        p.setBrush(QBrush(theme.FAILED_COLOUR, Qt.BrushStyle.BDiagPattern))
        for _key, rects in batches:
            p.drawRects(rects)

    def _paint_cached(self, p: QPainter, model: TimelineModel, area: QRectF, transform: QTransform, rh: float) -> None:
        """The live requests view: grid and finished bars, from an image that only gets
        the bars finished since the last frame, unless the view changed (then drawn again).

        Finished bars never change and never overlap another row's, so adding them on top of
        what was drawn gives the picture drawing them all would (up to an outline pixel).  Zoomed
        out, what is kept is the live majority level's closed cells; its open ones (a row's last
        cells, still filling) are drawn over the image each frame."""
        layers, failed = model.bar_layers, model.failed_layer
        dpr = self.devicePixelRatioF()
        majority = layers.majority if layers.uses_majority(1.0 / transform.m11()) else None
        # Majority cells are about a pixel wide: an outline would spill each over its neighbour.
        thin = majority is not None and majority.eps * transform.m11() < 0.7
        key = (
            id(model),
            self.width(),
            self.height(),
            dpr,
            self.axis.t0,
            self.axis.t1,
            rh,
            self.v_offset,
            id(majority) if majority is not None else None,
        )
        new: list | None = None
        failed_new = None
        if self._cache is not None and self._cache_key == key:
            new = majority.log[self._cache_pos[0] :] if majority is not None else layers.added_since(self._cache_pos[0])
            failed_new = failed.added_since(self._cache_pos[1])
        image = self._cache
        if new is None or failed_new is None or image is None:
            image = QImage(
                round(self.width() * dpr), round(self.height() * dpr), QImage.Format.Format_ARGB32_Premultiplied
            )
            image.setDevicePixelRatio(dpr)
            # Transparent where nothing is drawn, so the blocked shading painted under it each frame shows.
            image.fill(Qt.GlobalColor.transparent)
            q = QPainter(image)
            draw_time_grid(q, self.axis, area, labels=True)
            q.setClipRect(area)
            q.setTransform(transform)
            if majority is not None:
                self._draw_batches(q, [(k, majority.closed[k]) for k in layers.keys if k in majority.closed], thin)
            else:
                self._paint_finished_bars(q, model, transform.m11(), rh)
            self._paint_failed(q, failed.visible(self.axis.t0, self.axis.t1)[1])
            q.end()
            self._cache, self._cache_key = image, key
        elif new or failed_new:
            q = QPainter(image)
            q.setClipRect(area)
            q.setTransform(transform)
            t0, t1 = self.axis.t0, self.axis.t1
            by_key: dict[str, list[QRectF]] = {}
            if majority is not None:
                for k, rect in new:
                    by_key.setdefault(k, []).append(rect)
            else:
                for k, row, x0, x1 in new:
                    if x1 >= t0 and x0 <= t1:
                        by_key.setdefault(k, []).append(QRectF(x0, row, x1 - x0, BAR_HEIGHT))
            # in drawing order, as a full frame draws them
            self._draw_batches(q, [(k, by_key[k]) for k in layers.keys if k in by_key], thin or majority is None)
            if failed_new:
                self._paint_failed(
                    q, [(FAILED, [QRectF(x0, row, x1 - x0, BAR_HEIGHT) for _k, row, x0, x1 in failed_new])]
                )
            q.end()
        self._cache_pos = (len(majority.log) if majority is not None else layers.log_end, failed.log_end)
        p.drawImage(0, 0, image)
        if majority is not None:
            p.save()
            p.setClipRect(area)
            p.setTransform(transform)
            opened = majority.open_rects()
            self._draw_batches(p, [(k, opened[k]) for k in layers.keys if k in opened], thin)
            p.restore()

    @staticmethod
    def _draw_batches(p: QPainter, batches: list[tuple[str, list[QRectF]]], outline: bool) -> None:
        for k, rects in batches:
            c = theme.colour(k)
            p.setPen(_cosmetic(c) if outline else Qt.PenStyle.NoPen)
            p.setBrush(c)
            p.drawRects(rects)

    def set_highlight(self, requests: list[tuple[int, float, float]], threads: list[tuple[int, float, float]]) -> None:
        """Outline the selected request: its bar's row and times, and its spans' lanes and times."""
        self.highlight = {REQUESTS: list(requests), THREADS: list(threads)}
        self.update()

    def _paint_selection(self, p: QPainter, area: QRectF, sx: float, rh: float) -> None:
        """A dark outline (at least a few pixels wide, so a 0.1 ms span can be found) and a tick
        above it at the top of the data area, so a selection far down the rows is still seen."""
        boxes = self.highlight.get(self.mode) or []
        if not boxes:
            return
        p.setPen(QPen(SELECTION_COLOUR, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for row, t0, t1 in boxes:
            if t1 < self.axis.t0 or t0 > self.axis.t1:
                continue
            x0 = area.left() + (t0 - self.axis.t0) * sx
            w = max(4.0, (t1 - t0) * sx)
            y = area.top() + row * rh - self.v_offset
            p.drawRect(QRectF(x0 - 1, y - 1, w + 2, rh * BAR_HEIGHT + 2))
            p.drawLine(QPointF(x0, area.top()), QPointF(x0 + w, area.top()))

    def _paint_lane_labels(self, p: QPainter, area: QRectF, rh: float) -> None:
        """Lane names in the gutter; the event loop's (lane 0) stays at the top while the rest scroll."""
        model = self.model
        assert model is not None
        p.save()
        p.setFont(QFont(p.font().family(), 9))
        p.setClipRect(QRectF(0, area.top() + rh, self.width(), area.height() - rh))
        for i, label in enumerate(model.lane_labels):
            y = area.top() + i * rh - self.v_offset
            if i == 0:
                continue
            if y + rh < area.top() + rh or y > area.bottom():
                continue
            if i % 2 == 0:  # in the gutter only: over the bars it would change their colours
                p.fillRect(QRectF(0, y, LANE_GUTTER - 2, rh), QColor(0, 0, 0, 10))
            p.setPen(theme.AXIS_TEXT)
            p.drawText(QRectF(6, y, LANE_GUTTER - 10, rh * BAR_HEIGHT), Qt.AlignmentFlag.AlignVCenter, label)
        p.restore()
        if model.lane_labels:
            top = QRectF(0, area.top(), self.width(), rh)
            p.fillRect(QRectF(0, area.top(), LANE_GUTTER - 2, rh), QColor("white"))
            p.fillRect(QRectF(0, area.top(), LANE_GUTTER - 2, rh), QColor(27, 58, 102, 18))
            p.setPen(QColor("#1b3a66"))
            p.drawLine(QPointF(0, top.bottom()), QPointF(self.width(), top.bottom()))
            p.drawText(
                QRectF(6, area.top(), LANE_GUTTER - 10, rh * BAR_HEIGHT),
                Qt.AlignmentFlag.AlignVCenter,
                model.lane_labels[0],
            )
            if model.complete and not model.lane_spans[0] and len(model.lane_spans) > 1:
                p.setPen(theme.AXIS_TEXT)
                p.setFont(QFont(p.font().family(), 8))
                p.drawText(
                    QRectF(area.left() + 8, area.top(), area.width() - 16, rh * BAR_HEIGHT),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    "no request's code ran on the event loop's thread: its views ran in the threads below",
                )
        text = self.more_lanes_hint()
        if text:
            p.setFont(QFont(p.font().family(), 8))
            metrics = QFontMetrics(p.font())
            hint = QRectF(0, area.bottom() - metrics.height() - 4, LANE_GUTTER - 4, metrics.height() + 4)
            p.fillRect(hint, QColor(255, 255, 255, 235))
            p.setPen(QColor("#1b3a66"))
            p.drawText(hint.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if not any(model.lane_spans):
            p.setPen(theme.AXIS_TEXT)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No server thread has run a span yet.")

    def more_lanes_hint(self) -> str:
        """ "↓ N more lanes …" for the lanes below the bottom edge, short enough for the gutter; '' if none."""
        if self.model is None or self.mode != THREADS:
            return ""
        rh = self.row_height()
        hidden = len(self.model.lane_labels) - int((self.data_rect().height() + self.v_offset) / rh)
        if hidden <= 0:
            return ""
        metrics = QFontMetrics(QFont(self.font().family(), 8))
        text = f"↓ {hidden} more lanes (Shift+wheel or drag)"
        if metrics.horizontalAdvance(text) > LANE_GUTTER - 12:
            text = f"↓ {hidden} more lanes"
        return text

    # -- interaction ----------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier and self.mode == THREADS:
            self._scroll(-steps * self.row_height() * 3)
        elif steps:
            self.axis.zoom(0.8**steps, self.t_of(event.position().x()))
        event.accept()

    def _scroll(self, dy: float) -> None:
        max_off = max(0.0, self.row_count() * self.row_height() - self.data_rect().height())
        self.v_offset = min(max_off, max(0.0, self.v_offset + dy))
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position()
            self._drag = (pos.x(), pos.y(), self.axis.t0, self.v_offset)
            self._press = (pos.x(), pos.y())
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._drag is None:
            return
        x0, y0, t0, v0 = self._drag
        pos = event.position()
        ms_per_px = self.axis.span / self.data_rect().width()
        self.axis.pan(t0 - (pos.x() - x0) * ms_per_px - self.axis.t0)
        if self.mode == THREADS:
            self._scroll(v0 - (pos.y() - y0) - self.v_offset)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        press, self._press = self._press, None
        self._drag = None
        self.unsetCursor()
        pos = event.position()
        if (
            event.button() == Qt.MouseButton.LeftButton
            and press is not None
            and abs(pos.x() - press[0]) + abs(pos.y() - press[1]) <= CLICK_SLOP_PX
        ):
            self.clicked.emit(self.hit_at(pos.x(), pos.y()))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def hit_at(self, x: float, y: float) -> RequestBar | tuple[int, Phase] | None:
        """What is drawn at widget position (x, y): a request's bar, a (lane, span), or None."""
        if self.model is None or not self.data_rect().contains(QPointF(x, y)):
            return None
        row, frac = self.row_of(y)
        t = self.t_of(x)
        if self.mode == THREADS:
            span = self.model.lane_span_at(row, t, 2 * self.axis.span / self.data_rect().width())
            return (row, span) if span is not None else None
        bar = self.model.bar_at(row, t)
        # An upstream call is a thin stripe inside the bar of the request that made it.
        return (bar and self.model.child_at(bar, frac, t)) or bar

    def mouseDoubleClickEvent(self, _event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        self.fit()

    def fit(self) -> None:
        if self.model is not None:
            self.axis.fit(self.model.span_ms)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            # QHelpEvent carries an integer pos(), not the position() of mouse events.
            text = self.tooltip_at(event.pos().x(), event.pos().y())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def tooltip_at(self, x: float, y: float) -> str:
        """Rich text describing what is drawn at widget position (x, y), or '' if nothing."""
        if self.mode == THREADS and self.model is not None and metered(self.model.record):
            row, _frac = self.row_of(y)
            if row == 0 and self.data_rect().contains(QPointF(x, y)):
                return self._loop_tip(x)
        hit = self.hit_at(x, y)
        if hit is None:
            return self._stall_tip(x, y)
        if isinstance(hit, tuple):
            return self._span_tip(hit[1], hit[0])
        return self._bar_tip(hit)

    def _stall_tip(self, x: float, y: float) -> str:
        """Over a shaded (loop-blocked) stretch with no bar under the pointer, or over its hatched
        band above the rows: how long the loop was blocked there, and by what."""
        model, area = self.model, self.data_rect()
        if model is None or not area.left() <= x <= area.right():
            return ""
        if not (area.top() - BLOCKED_BAND_H <= y <= area.bottom()):
            return ""
        sentence = stall_at(model.record, model.origin + int(self.t_of(x) * 1e6))
        return f"<b>loop blocked</b><br>{html.escape(sentence)}" if sentence else ""

    def _loop_tip(self, x: float) -> str:
        """Over the measured event-loop lane: busy or idle under the pointer, and whose code ran."""
        model = self.model
        assert model is not None
        half_px_ms = self.axis.span / self.data_rect().width() / 2
        t = self.t_of(x)
        t0, t1 = model.origin + int((t - half_px_ms) * 1e6), model.origin + int((t + half_px_ms) * 1e6)
        found = activity_at(model.record, t0, t1)
        if found is None or found[0] <= 0:
            return ""
        span, busy, owners = found
        head = (
            f"<b>event loop</b> busy {busy / 1e6:.2f} ms, idle {(span - busy) / 1e6:.2f} ms "
            f"of these {span / 1e6:.3g} ms (measured in buckets of {model.record.loop_activity.bucket_ns / 1e6:g} ms"
            " or more)"
        )
        if not owners:
            return head + "<br>idle: the loop waited for events (in its selector, or Qt's wait)"
        rows = "".join(
            f"<tr><td align=right>{ns / 1e6:.2f} ms</td><td>{html.escape(who[:160])}</td></tr>" for who, ns in owners
        )
        piece = model.lane_span_at(0, t)
        drawn = (
            f"<br>drawn here: <b>{html.escape(piece.phase)}</b> {html.escape(piece.detail[:160])}"
            if piece is not None
            else ""
        )
        return f"{head}<br>whose code ran:<table cellspacing=4>{rows}</table>{drawn}"

    def _span_tip(self, span: Phase, lane: int) -> str:
        model = self.model
        assert model is not None
        dur = (span.end_ns - span.start_ns) / 1e6
        return (
            f"<b>{html.escape(span.phase)}</b> {dur:.2f} ms<br>{html.escape(span.detail)}<br>"
            f"<i>{html.escape(model.lane_labels[lane])}</i><br>"
            f"<span style='color:#666'>{html.escape(PHASE_HELP.get(span.phase, ''))}</span>"
        )

    def _bar_tip(self, bar: RequestBar) -> str:
        model = self.model
        assert model is not None
        rid = f"request #{bar.client_id}" if bar.client_id is not None else "server-only request"
        status = "in flight" if bar.in_flight else (bar.error or f"HTTP {bar.status}")
        head = f"<b>{rid}</b> {html.escape(bar.path)}<br>status: <b>{html.escape(str(status))}</b>"
        if bar.exception_type:
            head += f" ({html.escape(bar.exception_type)})"
        head += f"<br>total {(bar.end_ns - bar.start_ns) / 1e6:.2f} ms"
        rows = []
        for ph in sorted(bar.phases, key=lambda q: q.start_ns)[:40]:
            where = model.record.thread_label(ph.thread_id) if ph.thread_id is not None else "client"
            detail = html.escape(ph.detail[:160])
            rows.append(
                f"<tr><td><span style='color:{theme.colour(ph.phase).name()}'>■</span> "
                f"{html.escape(ph.phase)}</td><td align=right>{(ph.end_ns - ph.start_ns) / 1e6:.2f} ms</td>"
                f"<td>{html.escape(where)}</td><td>{detail}</td></tr>"
            )
        more = "" if len(bar.phases) <= 40 else f"<br>… {len(bar.phases) - 40} more"
        return head + "<table cellspacing=4>" + "".join(rows) + "</table>" + more


class LoopStrip(QWidget):
    """Event-loop lag and requests in flight on the canvas's time axis, blocked spans shaded."""

    def __init__(self, axis: TimeAxis, canvas: TimelineCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis = axis
        self.canvas = canvas
        self.model: TimelineModel | None = None
        # The curves as polygons, per point list: a live list only grows, so only its new points
        # are converted each frame (id -> (list, polygon, points converted)).
        self._polygons: dict[int, tuple[list[QPointF], QPolygonF, int]] = {}
        self.setFixedHeight(120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paint() covers every pixel
        axis.changed.connect(self.update)
        canvas.mode_changed.connect(lambda _m: self.update())

    def set_model(self, model: TimelineModel | None) -> None:
        self.model = model
        self._polygons = {}
        self.update()

    def _polygon(self, points: list[QPointF]) -> QPolygonF:
        kept = self._polygons.get(id(points))
        if kept is None or kept[0] is not points or kept[2] > len(points):
            poly, done = QPolygonF(), 0
        else:
            _, poly, done = kept
        if done < len(points):
            poly.append(points[done:])
        self._polygons[id(points)] = (points, poly, len(points))
        return poly

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        try:
            self.paint(p)
        finally:
            p.end()

    def paint(self, p: QPainter) -> None:
        """Two curves on the canvas's time axis.  With the narrow gutter of the requests view each
        label has a band of its own above its curve, so no curve is drawn through a label."""
        p.fillRect(self.rect(), QColor("#fafafa"))
        gutter = self.canvas.gutter
        width = max(10, self.width() - gutter - 8)
        half = (self.height() - 6) / 2
        band = 0 if gutter >= 100 else STRIP_LABEL_H
        lag_area = QRectF(gutter, 4 + band, width, half - 4 - band)
        fly_area = QRectF(gutter, half + 4 + band, width, half - 4 - band)
        for area in (lag_area, fly_area):
            draw_time_grid(p, self.axis, area, labels=False)
        model = self.model
        if model is None:
            return
        sx = width / self.axis.span
        p.save()
        p.setClipRect(QRectF(gutter, 0, width, self.height()))
        shade = QColor(228, 87, 46, 80)
        for area in (lag_area, fly_area):
            for rect in pixel_bands(model.blocked, self.axis.t0, self.axis.t1, sx, gutter, area.top(), area.height()):
                p.fillRect(rect.toAlignedRect(), shade)
        max_lag = max(25.0, model.max_lag_ms * 1.1)
        self._curve(p, model.lag_points, lag_area, sx, max_lag, theme.LAG_COLOUR)
        self._curve(p, model.inflight_points, fly_area, sx, max(1.0, model.max_inflight * 1.1), theme.IN_FLIGHT_COLOUR)
        p.restore()
        p.setPen(theme.AXIS_TEXT)
        p.setFont(QFont(p.font().family(), 8))
        lag_label = f"event-loop lag (max {model.max_lag_ms:.0f} ms)"
        fly_label = f"client requests in flight (max {model.max_inflight})"
        if gutter >= 100:
            p.drawText(
                QRectF(6, lag_area.top(), gutter - 10, lag_area.height()), Qt.AlignmentFlag.AlignVCenter, lag_label
            )
            p.drawText(
                QRectF(6, fly_area.top(), gutter - 10, fly_area.height()), Qt.AlignmentFlag.AlignVCenter, fly_label
            )
        else:
            left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            p.drawText(
                QRectF(gutter + 4, lag_area.top() - band, width, band), left, lag_label + "; shaded: loop blocked"
            )
            p.drawText(QRectF(gutter + 4, fly_area.top() - band, width, band), left, fly_label)

    def _curve(self, p: QPainter, points: list[QPointF], area: QRectF, sx: float, y_max: float, colour: QColor) -> None:
        if not points:
            return
        sy = area.height() / y_max
        p.setTransform(QTransform(sx, 0, 0, -sy, area.left() - self.axis.t0 * sx, area.bottom()))
        p.setPen(_cosmetic(colour, 1))
        p.drawPolyline(self._polygon(points))
        p.resetTransform()


class Legend(QWidget):
    """Phase colours with their one-line explanations as tooltips, from the engine's phase table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = FlowLayout(self)  # wraps onto more lines in a narrow window
        grid.setContentsMargins(4, 2, 4, 2)
        items = [(ph, theme.colour(ph).name(), PHASE_HELP.get(ph, "")) for ph in PHASES]
        items.extend((name, colour, text) for name, (colour, text) in MARKS.items())
        for name, colour, help_text in items:
            label = QLabel(f"<span style='color:{colour}; font-size:14px'>■</span> {html.escape(name)}")
            label.setToolTip(help_text)
            grid.addWidget(label)
