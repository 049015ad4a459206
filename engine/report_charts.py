"""The charts over time as SVG text for the reports: requests/s, latency p50/p95/p99, requests in
flight per bucket, and the latency histogram.

The numbers come from ``engine.charts`` (the same buckets the window's charts tab draws); this
module only lays them out.  Several runs overlay on one chart (a comparison), one colour per
run.  Each chart is a fixed number of points (the buckets, at most ``charts.MAX_BUCKETS``), so
its size does not grow with the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from .charts import Histogram, Series
from .report_card import nice_step

INK, MUTED, GRID = "#1d2330", "#5b6577", "#e3e6eb"
RUN_COLOURS = ("#3b6fb6", "#e4572e", "#2e9d5a", "#8e44ad")
PERCENTILE_DASH = {"p50": "", "p95": "6 3", "p99": "2 3"}
_W, _H = 520, 240
_L, _R, _T, _B = 58, 14, 52, 36
_LEGEND_Y = (30, 44)  # up to two rows under the title


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= value:
            return m * power
    return 10 * power


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _frame(title: str, x_max: float | None, y_max: float, x_unit: str, y_unit: str) -> list[str]:
    """Title, grid, y labels and (unless ``x_max`` is None) evenly spaced x labels."""
    out = [
        f'<svg class="chart" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" role="img" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_L}" y="18" font-size="14" font-weight="bold" fill="{INK}">{escape(title)}</text>',
    ]
    pw, ph = _W - _L - _R, _H - _T - _B
    for i in range(5):
        y = _T + ph - ph * i / 4
        out.append(f'<line x1="{_L}" y1="{y:.1f}" x2="{_L + pw}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{_L - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" text-anchor="end">'
            f"{_number(y_max * i / 4)}</text>"
        )
    mid = f"{_T + ph / 2:.0f}"
    out.append(
        f'<text x="12" y="{mid}" font-size="11" fill="{MUTED}" transform="rotate(-90 12 {mid})" '
        f'text-anchor="middle">{escape(y_unit)}</text>'
    )
    if x_max is not None:
        step = nice_step(x_max, 6)
        for i in range(int(x_max / step + 1e-9) + 1):
            x = _L + pw * i * step / x_max
            out.append(
                f'<text x="{x:.1f}" y="{_T + ph + 16}" font-size="11" fill="{MUTED}" text-anchor="middle">'
                f"{round(i * step, 9):g}</text>"
            )
    out.append(
        f'<text x="{_L + pw}" y="{_H - 4}" font-size="11" fill="{MUTED}" text-anchor="end">{escape(x_unit)}</text>'
    )
    return out


def _polyline(points: list[tuple[float, float]], colour: str, dash: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.8"{dashed}/>'


def _legend(items: list[tuple[str, str, str]]) -> list[str]:
    """Swatches under the title, left to right, wrapping once."""
    out, x, row = [], float(_L), 0
    for name, colour, dash in items:
        width = 14 + 6.5 * len(name) + 14
        if x + width > _W - _R and x > _L and row + 1 < len(_LEGEND_Y):
            x, row = float(_L), row + 1
        y = _LEGEND_Y[row]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{x:.0f}" y1="{y - 4}" x2="{x + 14:.0f}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dashed}/>'
        )
        out.append(f'<text x="{x + 18:.0f}" y="{y}" font-size="11" fill="{INK}">{escape(name)}</text>')
        x += width
    return out


def series_chart(
    title: str,
    runs: Sequence[tuple[str, Series]],
    metrics: Sequence[str],
    y_unit: str,
    colours: Sequence[str] = RUN_COLOURS,
) -> str:
    """One chart of bucket values over time; ``metrics`` are ``Bucket`` attributes (``rps``,
    ``p50_ms``…).  A bucket with nothing in it (None) breaks the line instead of reading as 0."""
    x_max = max((s.span_ms for _, s in runs), default=1.0) / 1000 or 1.0
    values = [getattr(b, m) for _, s in runs for b in s.buckets for m in metrics]
    y_max = _nice_top(max((v for v in values if v is not None), default=0.0))
    out = _frame(title, x_max, y_max, "s", y_unit)
    pw, ph = _W - _L - _R, _H - _T - _B
    legend = []
    for index, (name, series) in enumerate(runs):
        colour = colours[index % len(colours)]
        for metric in metrics:
            dash = PERCENTILE_DASH.get(metric.removesuffix("_ms"), "") if len(metrics) > 1 else ""
            piece: list[tuple[float, float]] = []
            for b in series.buckets:
                v = getattr(b, metric)
                if v is None or b.seconds <= 0:
                    if piece:
                        out.append(_polyline(piece, colour, dash))
                    piece = []
                    continue
                mid_s = (b.start_ms + min(b.end_ms, series.span_ms)) / 2000
                piece.append((_L + pw * mid_s / x_max, _T + ph - ph * min(v, y_max) / y_max))
            if piece:
                out.append(_polyline(piece, colour, dash))
        if len(runs) > 1:
            legend.append((name, colour, ""))
    if len(metrics) > 1:  # the percentiles by their dashes, in a neutral ink
        legend.extend((m.removesuffix("_ms"), MUTED, PERCENTILE_DASH.get(m.removesuffix("_ms"), "")) for m in metrics)
    out.extend(_legend(legend))
    out.append("</svg>")
    return "\n".join(out)


def histogram_chart(title: str, runs: Sequence[tuple[str, Histogram]], colours: Sequence[str] = RUN_COLOURS) -> str:
    """Latency histogram(s) on log-spaced bins: bars for one run, outlines overlaid for several."""
    out: list[str] = []
    shown = [(n, h) for n, h in runs if h.counts]
    if not shown:
        frame = _frame(title, None, 1, "ms", "requests")
        return "\n".join([*frame, "</svg>"])
    top = _nice_top(max(max(h.counts) for _, h in shown))
    lo = min(h.edges_ms[0] for _, h in shown)
    hi = max(h.edges_ms[-1] for _, h in shown)
    out = _frame(title, None, top, "latency, ms (log scale)", "requests")
    pw, ph = _W - _L - _R, _H - _T - _B
    span = math.log(hi / lo) if hi > lo else 1.0

    def x_of(ms: float) -> float:
        return _L + pw * (math.log(max(ms, lo) / lo) / span if hi > lo else 0.5)

    for i in range(6):  # the bottom axis: latencies at even log steps
        ms = lo * math.exp(span * i / 5)
        out.append(
            f'<text x="{x_of(ms):.1f}" y="{_T + ph + 16}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{_number(ms)}</text>'
        )
    legend = []
    for index, (name, hist) in enumerate(shown):
        colour = colours[index % len(colours)]
        filled = len(shown) == 1
        for count, a, b in zip(hist.counts, hist.edges_ms, hist.edges_ms[1:]):
            if count <= 0:
                continue
            x0, x1 = x_of(a), x_of(b)
            h = ph * count / top
            style = (
                f'fill="{colour}" fill-opacity="0.8"' if filled else f'fill="none" stroke="{colour}" stroke-width="1.5"'
            )
            out.append(
                f'<rect x="{x0:.1f}" y="{_T + ph - h:.1f}" width="{max(x1 - x0 - 1, 1):.1f}" height="{h:.1f}" {style}>'
                f"<title>{_number(a)}–{_number(b)} ms: {count:,}</title></rect>"
            )
        if len(shown) > 1:
            legend.append((name, colour, ""))
    out.extend(_legend(legend))
    out.append("</svg>")
    return "\n".join(out)
