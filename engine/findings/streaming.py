"""Streamed responses: time to the first byte against time to the last."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, percentile

STREAMED = 0.5  # first byte before half the response time: the body came in pieces over time
AT_THE_END = 0.9  # the body's first chunk after 90 % of the response: the headers came early, the body did not


def _body_late(facts: Facts) -> Finding | None:
    """Headers at once, body in one burst at the end (a sync iterator under ASGI): the client's
    first byte is early, so only the server's chunk times tell it apart from streaming."""
    shares, firsts, wholes = [], [], []
    for s in facts.server:
        if not s.chunks_ns or s.response_start_ns is None or s.end_ns is None:
            continue
        whole = s.end_ns - s.response_start_ns
        if whole < 20_000_000:
            continue
        first = s.chunks_ns[0] - s.response_start_ns
        shares.append(first / whole)
        firsts.append(first / 1e6)
        wholes.append(whole / 1e6)
    if not shares or percentile(shares, 50) < AT_THE_END:
        return None
    first, whole = percentile(firsts, 50), percentile(wholes, 50)
    evidence = {
        "first_chunk_p50_ms": round(first, 2),
        "response_p50_ms": round(whole, 2),
        "first_chunk_share": round(percentile(shares, 50), 3),
        "responses": len(shares),
    }
    return Finding(
        "body-at-the-end",
        "notice",
        f"not streamed: the headers went out at once, but the body's first chunk only after {fmt_ms(first)} "
        f"of the response's {fmt_ms(whole)} (p50), all of it in one burst at the end",
        evidence,
        weight=3,
        primary=True,
    )


@rule("streaming")
def streaming(facts: Facts) -> Finding | None:
    late = _body_late(facts)
    if late is not None:
        return late
    failed = {id(c) for c in facts.failed}
    timed = [c for c in facts.clients if c.first_byte_ns is not None and id(c) not in failed]
    if not timed:
        return None
    # One list at a time: each is megabytes on a long run.
    ttfb = percentile([(c.first_byte_ns - c.sent_ns) / 1e6 for c in timed], 50)  # type: ignore[operator]
    total = percentile([(c.done_ns - c.sent_ns) / 1e6 for c in timed], 50)  # type: ignore[operator]
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
