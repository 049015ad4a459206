"""Calls to ``sync_to_async(thread_sensitive=False)`` wait for one of the loop's default
pool threads: how long, how many threads the pool had, and how busy it was."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_s, max_overlap, total, union

WAITED_NS = 5_000_000  # a wait this long is queueing, not the hand-over itself


@rule("pool-queueing")
def pool_queueing(facts: Facts) -> Finding | None:
    runs = facts.pool_runs
    if not runs:
        return None
    waits = facts.pool_waits
    threads: dict[int, list[tuple[int, int]]] = {}
    for s in runs:
        threads.setdefault(s.thread_id, []).append((s.start_ns, s.end_ns))
    busy = sum(total(union(spans)) for spans in threads.values())
    pool = len(threads)
    # Queueing: a call whose thread was still running an earlier call when it was submitted.
    previous_end: dict[int, int] = {}  # a run's start -> when the run before it on its thread ended
    for spans in threads.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            previous_end[start] = end
    waited = [s for s in waits if s.duration_ns >= WAITED_NS and previous_end.get(s.end_ns, 0) > s.start_ns]
    evidence = {
        "calls": len(runs),
        "waited": len(waited),
        "wait_total_s": round(sum(s.duration_ns for s in waited) / 1e9, 3),
        "wait_max_s": round(max((s.duration_ns for s in waits), default=0) / 1e9, 3),
        "pool_threads": pool,
        "running_at_once": max_overlap([(s.start_ns, s.end_ns) for s in runs]),
        "busy_share": round(busy / (pool * facts.wall_ns), 3),
    }
    if not waited:
        return Finding(
            "pool-no-queue",
            "info",
            f"{len(runs)} thread-pool calls ran without queueing, on {pool} pool thread{'s' if pool != 1 else ''}",
            evidence,
        )
    return Finding(
        "pool-queueing",
        "warning",
        f"{len(waited)} of {len(runs)} thread-pool calls waited for one of the {pool} pool threads "
        f"(up to {fmt_s(evidence['wait_max_s'])}, {fmt_s(evidence['wait_total_s'])} in all); never more than "
        f"{evidence['running_at_once']} ran at once, the pool busy {evidence['busy_share']:.0%} of the run",
        evidence,
        weight=100 * evidence["wait_total_s"] / max(1e-9, facts.server_ns / 1e9),
    )
