"""Streamed responses: time to the first byte against time to the last."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, percentile

STREAMED = 0.5  # first byte before half the response time: the body came in pieces over time


@rule("streaming")
def streaming(facts: Facts) -> Finding | None:
    failed = {id(c) for c in facts.failed}
    timed = [c for c in facts.clients if c.first_byte_ns is not None and id(c) not in failed]
    if not timed:
        return None
    first = [(c.first_byte_ns - c.sent_ns) / 1e6 for c in timed]  # type: ignore[operator]
    whole = [(c.done_ns - c.sent_ns) / 1e6 for c in timed]  # type: ignore[operator]
    ttfb, total = percentile(first, 50), percentile(whole, 50)
    if total < 20 or ttfb > STREAMED * total:
        return None
    evidence = {
        "first_byte_p50_ms": round(ttfb, 2),
        "last_byte_p50_ms": round(total, 2),
        "bytes_p50": int(percentile([float(c.bytes) for c in timed], 50)),
        "streamed": len(timed),
    }
    return Finding(
        "streamed",
        "info",
        f"responses were streamed: the first byte arrived after {fmt_ms(ttfb)}, the last after {fmt_ms(total)} (p50)",
        evidence,
        weight=3,
        primary=True,
    )
