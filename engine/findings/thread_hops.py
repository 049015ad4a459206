"""Thread hops: every ``sync_to_async`` call a request made (Django's own signal handlers,
a sync middleware, the async ORM), and how long the hops waited for their thread."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms


@rule("thread-hops")
def thread_hops(facts: Facts) -> Finding | None:
    waits = facts.hop_waits
    if not waits.count or not facts.server:
        return None
    waited = waits.ns
    per_request = waits.count / len(facts.server)
    evidence = {
        "hops": waits.count,
        "hops_per_request": round(per_request, 2),
        "wait_mean_ms": round(waited / waits.count / 1e6, 3),
        "wait_share_of_server_time": round(waited / facts.server_ns, 3) if facts.server_ns else 0.0,
    }
    return Finding(
        "thread-hops",
        "info",
        f"{per_request:.3g} thread hops per request (sync_to_async), each waiting {fmt_ms(evidence['wait_mean_ms'])} "
        f"on average for its thread",
        evidence,
    )
