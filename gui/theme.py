"""Colours and fonts shared by every view, so a phase looks the same in the timeline, legend and help.

The phase colours are the engine's phase table (``engine.phases.PHASE_TABLE``), which the
exports read too; this module only turns them into Qt colours.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase

from engine import phases as ph

PHASE_COLOURS: dict[str, QColor] = {name: QColor(hex_colour) for name, hex_colour in ph.PHASE_COLOUR.items()}
FAILED_COLOUR = QColor(ph.FAILED_COLOUR)
BLOCKED_SHADE = QColor(228, 87, 46, 38)  # drawn behind the bars only: a bar keeps its legend colour
BLOCKED_EDGE = QColor(200, 60, 30)
BLOCKED_BAND = QColor(228, 87, 46)  # the hatched band over the time axis
OUTLIER_COLOUR = QColor(ph.MARKS[ph.OUTLIER][0])
FIRST_BYTE_COLOUR = QColor(ph.PHASE_COLOUR[ph.FIRST_BYTE])
SEPARATOR = QColor("white")  # the tick between two requests packed end to end in one row
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
