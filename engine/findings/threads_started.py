"""Threads Django started for the run's requests (a thread-sensitive executor per request)
and what waiting for them cost."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms


@rule("threads-started")
def threads_started(facts: Facts) -> Finding | None:
    starts = facts.thread_starts
    if not starts.count or not facts.n:
        return None
    waited = starts.ns
    share = waited / facts.server_ns if facts.server_ns else 0.0
    mean_ms = waited / starts.count / 1e6
    evidence = {
        "threads_started": starts.count,
        "per_request": round(starts.count / facts.n, 2),
        "start_wait_mean_ms": round(mean_ms, 2),
        "start_wait_s": round(waited / 1e9, 4),
        "share_of_server_time": round(share, 3),
    }
    return Finding(
        "threads-started",
        "notice" if share >= 0.2 else "info",
        f"Django started {evidence['per_request']:g} thread{'s' if evidence['per_request'] != 1 else ''} per request "
        f"({starts.count} in all); the hop that started one waited {fmt_ms(mean_ms)} on average, "
        f"{share:.0%} of the time inside Django",
        evidence,
        weight=share,
    )
