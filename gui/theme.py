"""Colours and fonts shared by every view, so a phase looks the same in the timeline, legend and help."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase

from engine import phases as ph

# Chosen for distinguishability: the "waiting" phases are light, the "busy" ones saturated,
# and the two a user must never confuse (await = loop free, blocking = loop stalled) sit at
# opposite ends (green vs. red-orange).
PHASE_COLOURS: dict[str, QColor] = {
    ph.CLIENT_QUEUE: QColor("#d9d9d9"),
    ph.NETWORK: QColor("#b9c7d6"),
    ph.FRAMEWORK: QColor("#8fa8c8"),
    ph.RESPONSE: QColor("#5f7fa8"),
    ph.VIEW: QColor("#3b6fb6"),
    ph.HOP_RUN: QColor("#9b6fd0"),
    ph.HOP_WAIT: QColor("#f2c14e"),
    ph.AWAIT: QColor("#5cbf72"),
    ph.BLOCKING: QColor("#e4572e"),
    ph.CPU: QColor("#c2185b"),
    ph.TEMPLATE: QColor("#17a2b8"),
    ph.SQL: QColor("#8d5524"),
}
FAILED_COLOUR = QColor("#d00000")
BLOCKED_SHADE = QColor(228, 87, 46, 60)
BLOCKED_EDGE = QColor(200, 60, 30)
LAG_COLOUR = QColor("#e4572e")
IN_FLIGHT_COLOUR = QColor("#3b6fb6")
GRID_COLOUR = QColor("#e6e6e6")
AXIS_TEXT = QColor("#555555")
BANNER_STYLE = "background:#fff3cd; color:#5c4400; border:1px solid #e0c36c; padding:6px; border-radius:3px;"
ERROR_STYLE = "background:#fde2e1; color:#7a1010; border:1px solid #e39a97; padding:6px; border-radius:3px;"


def colour(phase: str) -> QColor:
    return PHASE_COLOURS.get(phase, QColor("#999999"))


def mono_font(point_size: int = 10) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(point_size)
    return font
