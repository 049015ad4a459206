"""A run record drawn as text for the terminal: one line per request, phases as characters."""

from __future__ import annotations

from .derive import lag_intervals, visible_segments
from .phases import PHASE_SYMBOL, PHASES, request_bars
from .record import RunRecord

SYMBOL = {name: PHASE_SYMBOL[name] for name in PHASES}
LEGEND = "  ".join(f"{sym} {name}" for name, sym in SYMBOL.items())
LAG_LEVELS = " .:-=+*#%@"


def text_timeline(record: RunRecord, width: int = 72, max_rows: int = 30) -> str:
    end = record.finished_ns or max((c.done_ns or 0 for c in record.client), default=record.started_ns)
    bars = request_bars(record, end)
    if not bars:
        return "(no requests)"
    origin = min(b.start_ns for b in bars)
    span = max(1, max(b.end_ns for b in bars) - origin)

    def col(ns: int) -> int:
        return max(0, min(width - 1, (ns - origin) * width // span))

    lines = [f"timeline: {span / 1e6:.1f} ms across {width} columns ({span / 1e6 / width:.1f} ms each)"]
    shown = bars if len(bars) <= max_rows else bars[:: max(1, len(bars) // max_rows)][:max_rows]
    for bar in shown:
        row = [" "] * width
        for phase, start, stop in visible_segments(bar.phases):
            for x in range(col(start), col(stop) + 1):
                row[x] = SYMBOL.get(phase, "?")
        tag = f"#{bar.client_id}" if bar.client_id is not None else "srv"
        state = "ERR" if bar.failed else str(bar.status or "")
        lines.append(f"{tag:>6} |{''.join(row)}| {state} {bar.path[:28]}")
    if len(shown) < len(bars):
        lines.append(f"       ({len(shown)} of {len(bars)} requests shown, evenly sampled)")
    lag = [0] * width
    for begin, t_ns, lag_ns in lag_intervals(record):
        if t_ns >= origin:
            for x in range(col(begin), col(t_ns) + 1):
                lag[x] = max(lag[x], lag_ns)
    peak = max(lag) or 1
    cells = "".join(LAG_LEVELS[min(len(LAG_LEVELS) - 1, v * (len(LAG_LEVELS) - 1) // peak)] for v in lag)
    lines.append(f"{'lag':>6} |{cells}| max {peak / 1e6:.1f} ms")
    lines.append(f"legend: {LEGEND}")
    return "\n".join(lines)
