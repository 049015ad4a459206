"""The report card as an SVG file (see ``engine.report_card``): scales to any slide."""

from __future__ import annotations

from pathlib import Path

from ..record import RunRecord
from ..report_card import card_svg


def write_svg(record: RunRecord, path: str | Path) -> Path:
    """The run's report card, 1600 × 900, as SVG text."""
    path = Path(path)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + card_svg(record) + "\n", encoding="utf-8")
    return path
