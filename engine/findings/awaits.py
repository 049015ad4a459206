"""Several awaits in one request (upstream calls, sleeps): did they overlap, as with
asyncio.gather, or run one after another?"""

from __future__ import annotations

from embedded_site.tracing.spans import AWAIT

from . import Finding, rule
from .facts import Facts
from .measure import mean_overlap


@rule("awaits")
def awaits(facts: Facts) -> Finding | None:
    by_request: dict[int, list[tuple[int, int]]] = {}
    for span, request in zip(facts.spans.get(AWAIT, ()), facts.span_request.get(AWAIT, ())):
        by_request.setdefault(id(request), []).append((span.start_ns, span.end_ns))
    several = [spans for spans in by_request.values() if len(spans) >= 2]
    if not several:
        return None
    overlap = sum(mean_overlap(spans) for spans in several) / len(several)
    per_request = sum(len(s) for s in several) / len(several)
    evidence = {
        "requests": len(several),
        "awaits_per_request": round(per_request, 2),
        "overlap_mean": round(overlap, 2),
    }
    if overlap >= 1.5:
        sentence = f"the {per_request:.3g} awaits of each request overlapped, on average {overlap:.1f} at once"
    else:
        sentence = f"the {per_request:.3g} awaits of each request ran one after another"
    return Finding("awaits", "info", sentence, evidence, weight=1)
