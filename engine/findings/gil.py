"""Python work in threads beside the event loop: did the threads keep the loop free?

CPU spans and template renders on a thread other than the loop's still need the GIL, and
the loop thread needs it too to run anything: the loop's lag says whether it got it.
"""

from __future__ import annotations

from embedded_site.tracing.spans import CPU, TEMPLATE

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, fmt_s, mean_overlap, percentile, total, union


@rule("gil")
def gil(facts: Facts) -> Finding | None:
    loop = facts.loop_thread_id
    work = [s for kind in (CPU, TEMPLATE) for s in facts.spans.get(kind, ()) if s.thread_id != loop]
    if not work:
        return None
    busy_ns = total(union((s.start_ns, s.end_ns) for s in work))
    if busy_ns < 0.2 * facts.wall_ns:
        return None
    threads = len({s.thread_id for s in work})
    share = facts.stats.blocked_share
    lag_p99 = facts.stats.loop_lag_ms["p99"]
    evidence = {
        "work_s": round(total((s.start_ns, s.end_ns) for s in work) / 1e9, 3),
        "work_busy_s": round(busy_ns / 1e9, 3),
        "threads": threads,
        "work_at_once": round(mean_overlap([(s.start_ns, s.end_ns) for s in work]), 2),
        "work_p50_ms": round(percentile([s.duration_ns / 1e6 for s in work], 50), 1),
        "loop_blocked_share": share,
        "lag_p99_ms": lag_p99,
    }
    what = "CPU work" if any(s.kind == CPU for s in work) else "template rendering"
    if share >= 0.25:
        return Finding(
            "gil-contention",
            "problem",
            f"{what} in {threads} thread{'s' if threads != 1 else ''} held the GIL: the event loop was late for "
            f"{share:.0%} of the run ({fmt_s(facts.blocked_ns / 1e9)}, lag p99 {fmt_ms(lag_p99)}) while "
            f"{evidence['work_at_once']:.1f} spans ran side by side, each stretched to p50 "
            f"{fmt_ms(evidence['work_p50_ms'])}: the threads did not keep the loop free",
            evidence,
            weight=share * 100 + 1,  # names the cause of the blocked loop, so it goes first
        )
    return Finding(
        "threads-kept-loop-free",
        "info",
        f"{what} ran in {threads} thread{'s' if threads != 1 else ''} and the event loop stayed responsive "
        f"(late for {share:.0%} of the run, lag p99 {fmt_ms(lag_p99)})",
        evidence,
        weight=5,
    )
