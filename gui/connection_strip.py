"""PostgreSQL's connection count during a run, on the timeline's time axis.

The samples are the record's (``record.connections``: pg_stat_activity's client backends of
the lab's database, every ~50 ms); the strip only draws them, as steps, with the server's
``max_connections`` as a dashed line when the count comes near it.  It is hidden for a run
on SQLite.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from . import theme
from .time_axis import TimeAxis
from .timeline_model import TimelineModel

CONNECTION_COLOUR = QColor("#336791")  # PostgreSQL's blue
LIMIT_COLOUR = QColor("#c0392b")
HEIGHT = 52


def connection_steps(model: TimelineModel) -> list[tuple[float, int]]:
    """(ms on the model's axis, connections) for each sample of the record."""
    return [(model.ms(t_ns), count) for t_ns, count in list(model.record.connections)]


def draw_connections(p: QPainter, axis: TimeAxis, model: TimelineModel, area: QRectF, gutter: float) -> None:
    """The count as a step curve in ``area``, labelled in the gutter (or above the curve)."""
    steps = connection_steps(model)
    peak = max((c for _, c in steps), default=0)
    limit = model.record.database.get("max_connections")
    near_limit = bool(limit) and peak >= 0.5 * int(limit)
    y_max = max(4.0, (int(limit) if near_limit else peak) * 1.15)
    sx = area.width() / axis.span
    sy = area.height() / y_max

    def at(t_ms: float, count: float) -> QPointF:
        return QPointF(area.left() + (t_ms - axis.t0) * sx, area.bottom() - count * sy)

    p.save()
    p.setClipRect(area.adjusted(0, -2, 0, 2))
    if near_limit:
        pen = QPen(LIMIT_COLOUR, 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        p.setPen(pen)
        y = area.bottom() - int(limit) * sy
        p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
    pen = QPen(CONNECTION_COLOUR, 1.5)
    pen.setCosmetic(True)
    p.setPen(pen)
    for (t0, c0), (t1, _c1) in zip(steps, steps[1:]):
        p.drawLine(at(t0, c0), at(t1, c0))
        p.drawLine(at(t1, c0), at(t1, _c1))
    p.restore()
    p.setPen(theme.AXIS_TEXT)
    p.setFont(QFont(p.font().family(), 8))
    label = f"PostgreSQL connections (peak {peak}" + (f", limit {limit})" if near_limit else ")")
    if model.record.connection_errors:
        label += f"; {len(model.record.connection_errors)} samples failed"
    if gutter >= 100:
        p.drawText(QRectF(6, area.top(), gutter - 10, area.height()), Qt.AlignmentFlag.AlignVCenter, label)
    else:
        p.drawText(QRectF(area.left() + 4, area.top() - 13, area.width(), 13), Qt.AlignmentFlag.AlignLeft, label)


class ConnectionStrip(QWidget):
    """The connection count under the loop strip; shown only for a run on PostgreSQL."""

    def __init__(self, axis: TimeAxis, canvas: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis = axis
        self.canvas = canvas
        self.model: TimelineModel | None = None
        self.setFixedHeight(HEIGHT)
        self.hide()
        axis.changed.connect(self.update)

    def set_model(self, model: TimelineModel | None) -> None:
        self.model = model
        self.setVisible(model is not None and model.record.database.get("vendor") == "postgresql")
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("#fafafa"))
            if self.model is not None:
                gutter = getattr(self.canvas, "gutter", 100)
                band = 0 if gutter >= 100 else 13
                area = QRectF(gutter, 4 + band, max(10, self.width() - gutter - 8), self.height() - 8 - band)
                draw_connections(p, self.axis, self.model, area, gutter)
        finally:
            p.end()
