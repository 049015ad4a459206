"""Threads Django started for the run's requests (a thread-sensitive executor per request)
and what waiting for them cost."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms


@rule("threads-started")
def threads_started(facts: Facts) -> Finding | None:
    starts = facts.new_thread_waits
    if not starts or not facts.n:
        return None
    waited = sum([s.end_ns for s in starts]) - sum([s.start_ns for s in starts])
    share = waited / facts.server_ns if facts.server_ns else 0.0
    mean_ms = waited / len(starts) / 1e6
    evidence = {
        "threads_started": len(starts),
        "per_request": round(len(starts) / facts.n, 2),
        "start_wait_mean_ms": round(mean_ms, 2),
        "start_wait_s": round(waited / 1e9, 4),
        "share_of_server_time": round(share, 3),
    }
    return Finding(
        "threads-started",
        "notice" if share >= 0.2 else "info",
        f"Django started {evidence['per_request']:g} thread{'s' if evidence['per_request'] != 1 else ''} per request "
        f"({len(starts)} in all); the hop that started one waited {fmt_ms(mean_ms)} on average, "
        f"{share:.0%} of the time inside Django",
        evidence,
        weight=share,
    )
