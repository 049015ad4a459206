"""A comparison of 2–4 runs as one "report card" (SVG text, 1600 × 900, fit for a slide).

The card of one run (``engine.report_card``) says what one run did; this one says how several
did against each other: the comparison's sentence as the headline, a table of the key numbers
with each run's difference from the first in ``engine.compare``'s own words ("3.9× better"),
and the runs' timelines stacked on one time axis, each under its title and settings line.
What is compared is computed once by ``engine.compare.compare``; the drawing reuses the run
card's pieces (the bounded picture grid, the timeline, the legend), so both cards draw a run's
bars the same way and the size stays bounded whatever the runs' length.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from .compare import Comparison, compare
from .phases import FAILED_COLOUR
from .picture import picture
from .record import RunRecord
from .report_card import (
    _MAX_BANDS,
    _PLOT_W,
    _PLOT_X,
    FONT,
    HEIGHT,
    INK,
    MUTED,
    RULE,
    WIDTH,
    fit,
    legend_of,
    run_span_ns,
    run_state,
    settings_line,
    timeline_svg,
    wrap,
)
from .report_charts import RUN_COLOURS

# The numbers a slide has room for, as ``engine.compare.METRICS`` keys: the run card's key
# numbers, and the server threads (where a sync and an async view differ most visibly).
KEY_METRICS = ("wall", "throughput", "p50", "p95", "p99", "errors", "blocked", "in_flight", "threads")
DIRECTION_FILL = {"better": "#1b7a3a", "worse": "#b3261e"}  # anything else ("same", "more") is muted
_LABEL_W = 300  # the table's first column: each run's name
_ROW_H, _HEAD_H = 46, 24
_LANE_GAP, _LANE_LABEL_H = 10, 22
_BOTTOM = 84  # under the lowest timeline: its time labels, then the legend


def _text(x: float, y: float, text: str, size: float, fill: str = INK, weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def _cell_size(text: str, width: float, most: float) -> float:
    """A font size at which ``text`` fits ``width`` (bold, the run card's glyph estimate)."""
    return min(most, round(width / (0.64 * max(len(text), 1)), 1))


def _tail(text: str) -> str:
    """'p99 2.01 s → 520 ms, 3.9× better' → '3.9× better' (the cell already shows the value)."""
    return text.rsplit(", ", 1)[-1] if ", " in text else text


def comparison_card_svg(records: Sequence[RunRecord], comparison: Comparison | None = None) -> str:
    """The comparison of ``records`` (the first is the baseline) as an SVG document, 1600 × 900.
    ``comparison``: theirs when already computed (a comparison window has it)."""
    cmp = comparison if comparison is not None else compare(list(records))
    runs = cmp.runs
    metrics = [m for m in cmp.metrics if m.key in KEY_METRICS]
    index = {m.key: i for i, m in enumerate(cmp.metrics)}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    title = "Comparison: " + " vs ".join(r.label for r in runs)
    out.append(_text(_PLOT_X, 56, fit(title, 30, _PLOT_W, bold=True), 30, INK, "bold"))
    y = 92
    lines = wrap(cmp.sentence, 22, _PLOT_W)
    if len(lines) > 3:
        lines = [*lines[:2], fit(" ".join(lines[2:]), 22, _PLOT_W)]
    for line in lines:
        out.append(_text(_PLOT_X, y, line, 22, "#1b3a66"))
        y += 29

    # The numbers: one row per run, one column per metric; every run after the first says its
    # difference from the first under its value, coloured by whether it is better or worse.
    top = y + 2
    col_w = (_PLOT_W - _LABEL_W) / len(metrics)
    out.append(f'<rect x="{_PLOT_X}" y="{top}" width="{_PLOT_W}" height="{_HEAD_H}" fill="#f2f4f7"/>')
    out.append(_text(_PLOT_X + 8, top + 17, f"each run against {runs[0].label}", 13, MUTED))
    for j, metric in enumerate(metrics):
        out.append(_text(_PLOT_X + _LABEL_W + j * col_w + 6, top + 17, metric.label, 14, MUTED))
    for i, run in enumerate(runs):
        ry = top + _HEAD_H + i * _ROW_H
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        out.append(
            f'<line x1="{_PLOT_X}" y1="{ry + _ROW_H}" x2="{_PLOT_X + _PLOT_W}" y2="{ry + _ROW_H}" stroke="{RULE}"/>'
        )
        out.append(f'<rect x="{_PLOT_X + 4}" y="{ry + 13}" width="14" height="14" fill="{colour}"/>')
        name = fit(run.label, 18, _LABEL_W - 34, bold=True)
        out.append(_text(_PLOT_X + 26, ry + 26, name, 18, INK, "bold"))
        state = run_state(run.record)  # a partial run says so: its numbers cover only part of the work
        sub = state or f"{run.stats.requests:,} requests, loop {run.record.loop}"
        out.append(_text(_PLOT_X + 26, ry + 42, fit(sub, 12, _LABEL_W - 30), 12, FAILED_COLOUR if state else MUTED))
        for j, metric in enumerate(metrics):
            cx = _PLOT_X + _LABEL_W + j * col_w + 6
            value = run.texts[metric.key]
            out.append(_text(cx, ry + 24, value, _cell_size(value, col_w - 12, 19), INK, "bold"))
            if i == 0:
                out.append(_text(cx, ry + 41, "baseline", 12, MUTED))
                continue
            diff = cmp.differences[i - 1][index[metric.key]]
            out.append(
                _text(cx, ry + 41, fit(_tail(diff.text), 12, col_w - 10), 12, DIRECTION_FILL.get(diff.direction, MUTED))
            )

    # The timelines, stacked on one time axis: the width stands for the longest run's time.
    lanes_top = top + _HEAD_H + len(runs) * _ROW_H + 22
    free = HEIGHT - _BOTTOM - lanes_top - (len(runs) - 1) * _LANE_GAP
    lane_h = free / len(runs) - _LANE_LABEL_H
    span = max(run_span_ns(r.record) for r in runs)
    pics = [
        picture(r.record, columns=_PLOT_W, max_bands=max(1, min(_MAX_BANDS, int(lane_h // 2))), span_ns=span)
        for r in runs
    ]
    for i, (run, pic) in enumerate(zip(runs, pics, strict=True)):
        ly = lanes_top + i * (lane_h + _LANE_LABEL_H + _LANE_GAP)
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        title_part = run.label + (f" — {run.record.config.title}" if run.record.config.title else "")
        rows = f"{pic.bars:,} bars, {pic.rows:,} rows" + (
            f", {pic.rows_per_band} per line" if pic.rows_per_band > 1 else ""
        )
        rest = fit(f"{settings_line(run.record)} · {rows}", 14, _PLOT_W - 30 - 0.62 * 15 * len(title_part))
        out.append(f'<rect x="{_PLOT_X}" y="{ly + 4}" width="12" height="12" fill="{colour}"/>')
        out.append(
            f'<text x="{_PLOT_X + 18}" y="{ly + 15}" font-size="15" fill="{INK}">'
            f'<tspan font-weight="bold">{escape(title_part)}</tspan>'
            f'<tspan font-size="14" fill="{MUTED}">\u2002·\u2002{escape(rest)}</tspan></text>'
        )
        out.extend(timeline_svg(pic, _PLOT_X, ly + _LANE_LABEL_H, _PLOT_W, lane_h, tick_labels=i == len(runs) - 1))
    out.extend(legend_of(pics, _PLOT_X, HEIGHT - 30, _PLOT_W))
    out.append("</svg>")
    return "\n".join(out)


def write_comparison_svg(records: Sequence[RunRecord], path: str | Path) -> Path:
    """The comparison's report card, 1600 × 900, as an SVG file."""
    path = Path(path)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + comparison_card_svg(records) + "\n", encoding="utf-8")
    return path


def write_comparison_png(records: Sequence[RunRecord], path: str | Path) -> Path:
    """The comparison's report card, 1600 × 900, as PNG (the SVG rendered by Qt, as the run card is)."""
    from .exports.card_png import render_png

    return render_png(comparison_card_svg(records), path)
