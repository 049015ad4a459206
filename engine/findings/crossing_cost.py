"""What one sync_to_async round trip cost: from the spans a demo records over N timed calls.

A request's span "2000 sync_to_async round trips" covers the N calls (``ROUND_TRIPS``
ends its name); per request the cost is its length over N.  With several requests
crossing at once, each request's figure includes waiting for the others' crossings (one
loop, a few cores), so then the cost of one crossing is the loop's: all the crossings over the
time any ran.  Requests one at a time give their own figure (the median).
"""

from __future__ import annotations

from embedded_site.tracing.spans import AWAIT, ROUND_TRIPS

from . import Finding, rule
from .facts import Facts
from .measure import percentile, total, union

OVERLAPPING = 1.2  # requests crossing at once on average: each one's figure includes the others'


def _count(name: str) -> int | None:
    head = name[: -len(ROUND_TRIPS)] if name.endswith(ROUND_TRIPS) else ""
    return int(head) if head.isdigit() and int(head) > 0 else None


def _us(value: float) -> str:
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.3g} µs"


@rule("crossing-cost")
def crossing_cost(facts: Facts) -> Finding | None:
    timed = [(s, n) for s in facts.spans.get(AWAIT, ()) if (n := _count(s.name))]
    if not timed:
        return None
    per_request = [s.duration_ns / n / 1000 for s, n in timed]
    crossings = sum(n for _, n in timed)
    covered = total(union((s.start_ns, s.end_ns) for s, _ in timed))
    at_once = sum(s.duration_ns for s, _ in timed) / covered if covered else 1.0
    p50 = percentile(per_request, 50)
    loop = covered / crossings / 1000
    together = at_once >= OVERLAPPING
    cost = loop if together else p50
    evidence = {
        "us_per_crossing": round(cost, 2),
        "us_per_crossing_p50": round(p50, 2),
        "us_per_crossing_loop": round(loop, 2),
        "crossings": crossings,
        "requests": len(timed),
        "requests_at_once": round(at_once, 2),
    }
    if together:
        how = (
            f"of the loop's time ({crossings:,} crossings by {len(timed)} requests, {at_once:.3g} at once on average; "
            f"each request waited {_us(p50)} per crossing, p50, behind the others')"
        )
    else:
        how = f"(p50 of {len(timed)} request{'s' if len(timed) != 1 else ''} one at a time, {crossings:,} crossings)"
    return Finding(
        "crossing-cost",
        "info",
        f"one sync_to_async round trip cost {_us(cost)} {how}",
        evidence,
        weight=5,
        primary=True,
    )
