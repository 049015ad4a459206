"""A run's "report card" as SVG text: title, settings, the verdict, key numbers and the timeline.

Built from the run record alone (the stats and findings it computes, the bars ``engine.derive``
makes, reduced to a bounded grid by ``engine.picture``), as plain text: no widgets, so the
same card is written headless by ``main.py``, embedded in the HTML report, and rendered to
PNG (``engine.exports.card_png``) without a second drawing of its own.  Its size is fixed
(1600 × 900, a slide) and its number of shapes is bounded whatever the run's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from .phases import FAILED_COLOUR, LOOP_BLOCKED, MARKS, PHASE_COLOUR, PHASES
from .picture import Picture, picture
from .record import RunRecord

WIDTH, HEIGHT = 1600, 900
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
INK, MUTED, RULE = "#1d2330", "#5b6577", "#d5d9e0"
_PLOT_X, _PLOT_W = 60, 1480
_MAX_BANDS = 200  # the timeline is at least 400 px high: 2 px per band at least


@dataclass(frozen=True)
class KeyStat:
    label: str
    value: str
    alert: bool = False  # drawn in red: something went wrong (errors, a blocked loop)


def run_state(record: RunRecord) -> str:
    """Why the run is partial, if it is ("" for a run that did what it was asked)."""
    if record.interrupted:
        return f"interrupted ({record.extra.get('signal', 'a signal')}): a partial run"
    if record.incomplete:
        return f"incomplete: {record.incomplete}"
    if record.stopped:
        return "stopped early: a partial run"
    return ""


def settings_line(record: RunRecord) -> str:
    """The settings the run was made with, in one line: load, parameters, loop, server, versions."""
    several = len(record.config.streams) > 1
    parts: list[str] = []
    counts: list[int] = []
    for stream in record.config.streams:
        load = []
        if stream.rate is not None:
            load.append(f"{stream.rate:g} req/s open loop")
        load.append(f"concurrency {stream.concurrency}")
        if stream.requests is not None:
            load.append(f"{stream.requests:,} requests")
        if stream.duration_s is not None:
            load.append(f"{stream.duration_s:g} s")
        if stream.start_s:
            load.append(f"from {stream.start_s:g} s")
        load.extend(f"{k}={v}" for k, v in dict(stream.params).items())
        text = (f"{stream.demo} " if several else "") + ", ".join(load)
        if parts and parts[-1] == text:  # a scenario's identical streams (waves) said once
            counts[-1] += 1
        else:
            parts.append(text)
            counts.append(1)
    parts = [f"{n} × {text}" if n > 1 else text for text, n in zip(parts, counts)]
    v = record.versions
    parts.append(f"loop {record.loop}")
    server = record.extra.get("server") or {}
    if server.get("name", "embedded") != "embedded":
        from .findings.server import shape

        parts.append(f"server {server['name']} in a child process, {shape(server)}")
    parts.append(
        ", ".join(
            f"{name} {v[key]}"
            for key, name in (("django", "Django"), ("python", "Python"), ("uvicorn", "uvicorn"))
            if v.get(key)
        )
    )
    return " · ".join(p for p in parts if p)


def key_stats(stats: Any) -> list[KeyStat]:
    """The numbers a reader looks at first, formatted as the window's stats panel shows them."""
    lat = stats.latency_ms
    return [
        KeyStat("wall time", _seconds(stats.wall_s)),
        KeyStat("throughput", f"{stats.throughput_rps:,.1f} req/s"),
        KeyStat("p50", _ms(lat["p50"])),
        KeyStat("p95", _ms(lat["p95"])),
        KeyStat("p99", _ms(lat["p99"])),
        KeyStat("errors", f"{stats.errors:,} of {stats.requests:,}", stats.errors > 0),
        KeyStat(
            "loop blocked",
            f"{_ms(stats.blocked_ms)} ({stats.blocked_share:.0%})",
            stats.blocked_share >= 0.05,
        ),
        KeyStat("max in flight", f"{stats.max_in_flight:,}"),
    ]


def _seconds(s: float) -> str:
    return f"{s:.3f} s" if s < 10 else f"{s:,.1f} s"


def _ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def fit(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``width`` at ``size`` (the same glyph estimate as ``wrap``)."""
    most = max(4, int(width / ((0.62 if bold else 0.56) * size)))
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking with an average glyph width (about 0.55 em for DejaVu Sans)."""
    per_line = max(10, int(width / (0.56 * size)))
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > per_line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def _text(
    x: float, y: float, text: str, size: float, fill: str = INK, weight: str = "normal", anchor: str = "start"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" font-weight="{weight}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def nice_step(span: float, target_ticks: int = 8) -> float:
    """A 1-2-5 step giving about ``target_ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** int(f"{raw:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def time_label(seconds: float, step: float) -> str:
    if step >= 1:
        return f"{seconds:g} s"
    if step >= 0.001:
        return f"{seconds * 1000:g} ms"
    return f"{seconds * 1e6:g} µs"


def timeline_svg(pic: Picture, x: float, y: float, width: float, height: float, tick_labels: bool = True) -> list[str]:
    """The picture's shapes inside the box (x, y, width, height): blocked shading, bars, failures,
    time axis (``tick_labels`` False: the ticks only, for all but the lowest of stacked timelines)."""
    out = [f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#fbfbfc" stroke="{RULE}"/>']
    col_w = width / pic.columns
    band_h = height / max(pic.bands, 1)
    blocked = MARKS[LOOP_BLOCKED][0]
    for a, b in pic.blocked:
        out.append(
            f'<rect x="{x + a * col_w:.2f}" y="{y}" width="{(b - a) * col_w:.2f}" height="{height}" fill="{blocked}"/>'
        )
    gap = 0.15 * band_h if band_h >= 4 else 0.0
    # One path per colour and strength, a rectangle per run in it: a long run's grid of up to
    # 200 × 1,480 cells stays a few bytes per cell.
    shapes: dict[tuple[str, float], list[str]] = {}
    h = band_h - gap
    for run in pic.runs:
        left, top = x + run.col0 * col_w, y + run.band * band_h + gap / 2
        shapes.setdefault((run.phase, run.share), []).append(
            f"M{left:.1f} {top:.1f}h{(run.col1 - run.col0) * col_w:.1f}v{h:.1f}H{left:.1f}z"
        )
    for (phase, share), parts in shapes.items():
        opacity = "" if share >= 1 else f' fill-opacity="{share:.2f}"'
        out.append(f'<path fill="{PHASE_COLOUR[phase]}"{opacity} d="{"".join(parts)}"/>')
    for run in pic.failed:
        out.append(
            f'<rect x="{x + run.col0 * col_w:.2f}" y="{y + run.band * band_h + gap / 2:.2f}" '
            f'width="{(run.col1 - run.col0) * col_w:.2f}" height="{max(band_h - gap, 1):.2f}" '
            f'fill="none" stroke="{FAILED_COLOUR}" stroke-width="1.2"/>'
        )
    span_s = pic.span_ns / 1e9
    step = nice_step(span_s)
    tick = 0.0
    while tick <= span_s * 1.0001:
        tx = x + tick / span_s * width
        out.append(f'<line x1="{tx:.1f}" y1="{y + height}" x2="{tx:.1f}" y2="{y + height + 6}" stroke="{MUTED}"/>')
        if tick_labels:
            out.append(_text(tx, y + height + 22, time_label(round(tick, 9), step), 13, MUTED, anchor="middle"))
        tick += step
    return out


def legend_svg(pic: Picture, x: float, y: float, width: float) -> list[str]:
    """Swatches for the phases the picture shows, and the marks it uses."""
    return legend_of([pic], x, y, width)


def legend_of(pics: list[Picture], x: float, y: float, width: float) -> list[str]:
    """One legend for several pictures (stacked timelines): every phase any of them shows, in
    the phase table's order, and the marks any of them uses."""
    shown = {p for pic in pics for p in pic.phases_shown()}
    items = [(PHASE_COLOUR[p], p) for p in PHASES if p in shown]
    if any(pic.blocked for pic in pics):
        items.append((MARKS[LOOP_BLOCKED][0], "loop blocked"))
    if any(pic.failed for pic in pics):
        items.append((FAILED_COLOUR, "failed (outline)"))
    out, cx, cy = [], x, y
    for colour, name in items:
        w = 26 + 0.56 * 14 * len(name) + 18
        if cx + w > x + width:
            cx, cy = x, cy + 22
        out.append(f'<rect x="{cx:.1f}" y="{cy - 11:.1f}" width="16" height="12" fill="{colour}" stroke="{RULE}"/>')
        out.append(_text(cx + 22, cy, name, 14, INK))
        cx += w
    return out


def _open(width: float, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _caption(pic: Picture) -> str:
    rows = f"{pic.rows:,} rows" + (f", {pic.rows_per_band} per line" if pic.rows_per_band > 1 else "")
    return f"Requests over time: {pic.bars:,} bars, one row per request at once ({rows})"


def run_span_ns(record: RunRecord) -> int:
    """How long a run's timeline is, first request to last answer (for a shared axis)."""
    pic = picture(record, columns=1, max_bands=1)
    return pic.span_ns


def timeline_picture_svg(
    record: RunRecord, width: int = WIDTH, height: int = 560, span_ns: int | None = None, label: str = ""
) -> str:
    """The card's timeline alone (caption, bars, time axis, legend) as an SVG document;
    ``span_ns`` fixes the time the width stands for (several runs on one axis)."""
    plot_w = width - 2 * _PLOT_X
    pic = picture(record, columns=plot_w, max_bands=_MAX_BANDS, span_ns=span_ns)
    out = _open(width, height)
    out.append(_text(_PLOT_X, 22, (f"{label}: " if label else "") + _caption(pic), 15, MUTED))
    out.extend(timeline_svg(pic, _PLOT_X, 32, plot_w, height - 32 - 84))
    out.extend(legend_svg(pic, _PLOT_X, height - 22, plot_w))
    out.append("</svg>")
    return "\n".join(out)


def card_svg(record: RunRecord) -> str:
    """The whole card as an SVG document (1600 × 900)."""
    stats = record.final_stats()
    pic = picture(record, columns=_PLOT_W, max_bands=_MAX_BANDS)
    out = _open(WIDTH, HEIGHT)
    title = record.config.target + (f" — {record.config.title}" if record.config.title else "")
    out.append(_text(60, 58, fit(title, 32, 1480, bold=True), 32, INK, "bold"))
    y = 88
    settings = wrap(settings_line(record), 16, 1480)
    if len(settings) > 2:
        settings = [settings[0], fit(" ".join(settings[1:]), 16, 1480)]
    for line in settings:
        out.append(_text(60, y, line, 16, MUTED))
        y += 21
    y += 19
    state = run_state(record)
    if state:
        out.append(_text(60, y, state.upper(), 18, FAILED_COLOUR, "bold"))
        y += 28
    for line in wrap(stats.verdict or "no verdict: nothing was measured", 24, 1480)[:3]:
        out.append(_text(60, y, line, 24, INK))
        y += 32
    tiles = key_stats(stats)
    tile_w, tile_y = 1480 / len(tiles), max(y + 4, 200)
    for i, tile in enumerate(tiles):
        tx = 60 + i * tile_w
        out.append(f'<rect x="{tx + 4:.1f}" y="{tile_y}" width="{tile_w - 8:.1f}" height="78" rx="6" fill="#f2f4f7"/>')
        out.append(_text(tx + 16, tile_y + 26, tile.label, 15, MUTED))
        size = min(24, round((tile_w - 32) / (0.64 * max(len(tile.value), 1)), 1))
        out.append(_text(tx + 16, tile_y + 60, tile.value, size, FAILED_COLOUR if tile.alert else INK, "bold"))
    plot_y = tile_y + 110
    plot_h = HEIGHT - plot_y - 110
    out.append(_text(60, plot_y - 10, _caption(pic), 15, MUTED))
    out.extend(timeline_svg(pic, _PLOT_X, plot_y, _PLOT_W, plot_h))
    out.extend(legend_svg(pic, 60, HEIGHT - 46, 1480))
    out.append("</svg>")
    return "\n".join(out)
