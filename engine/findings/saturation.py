"""A saturated loop: busy nearly all the time at the rate the run achieved, in many short
callbacks rather than in long stalls (those are loop-blocked's to name).

The evidence is the loop's measured busy share (``Facts.loop_busy``: time in callbacks over
the run).  Where the loop was not metered (the qasync kind, an older record) the heartbeat's
lateness added up stands in for it, and the sentence says so.
"""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, fmt_s

LONG_STALL_NS = 100_000_000
SATURATED_SHARE = 0.8  # measured busy share from which the loop had no time left to spare
KEPT_BUSY_SHARE = 0.5


@rule("saturation")
def saturation(facts: Facts) -> Finding | None:
    busy = facts.loop_busy
    if busy is not None:
        # Busy mostly in long stalls: loop-blocked names them.  A stall or two within a loop
        # busy all along with short callbacks does not make it less saturated.
        long_ns = sum(e - s for s, e in facts.blocked if e - s >= LONG_STALL_NS)
        if long_ns >= 0.5 * busy.busy_ns:
            return None
        return _measured(facts, busy)
    blocked = facts.blocked
    if blocked and max(e - s for s, e in blocked) >= LONG_STALL_NS:
        return None  # a long stall: loop-blocked names it
    return _from_heartbeat(facts)


def _measured(facts: Facts, busy) -> Finding | None:
    st = facts.stats
    share = busy.share()
    if share < KEPT_BUSY_SHARE:
        return None
    evidence = busy.as_dict() | {"rate_rps": st.throughput_rps, "lag_p99_ms": st.loop_lag_ms["p99"]}
    split = f"requests {busy.share(busy.requests_ns):.0%}, server overhead {busy.share(busy.server_ns):.0%}" + (
        f", Qt / window {busy.share(busy.qt_ns):.0%}" if busy.qt_ns else ""
    )
    if share >= SATURATED_SHARE and facts.wall_ns >= 1e9:
        return Finding(
            "saturated",
            "warning",
            f"the event loop was saturated at {st.throughput_rps:,.0f} req/s: measured busy share of the loop "
            f"{share:.0%} ({split}), lag p99 {fmt_ms(st.loop_lag_ms['p99'])}",
            evidence,
            weight=share * 100,
        )
    return Finding(
        "loop-kept-busy",
        "notice",
        f"the event loop was kept busy: measured busy share of the loop {share:.0%} ({split}), "
        f"lag p99 {fmt_ms(st.loop_lag_ms['p99'])}",
        evidence,
        weight=share,
    )


def _from_heartbeat(facts: Facts) -> Finding | None:
    """No measured activity: how late the heartbeat woke, added up, is the evidence."""
    blocked = facts.blocked
    if not blocked or facts.blocked_ns < 20_000_000 or len(blocked) < 3:
        return None
    longest = max(e - s for s, e in blocked)
    st = facts.stats
    share = min(1.0, facts.blocked_ns / facts.wall_ns)
    evidence = {
        "late_share": round(share, 3),
        "late_s": round(facts.blocked_ns / 1e9, 3),
        "stalls": len(blocked),
        "longest_ms": round(longest / 1e6, 1),
        "rate_rps": st.throughput_rps,
        "lag_p99_ms": st.loop_lag_ms["p99"],
    }
    unmeasured = "the loop's busy time was not measured, so this is the heartbeat's lateness"
    if share >= 0.5 and facts.wall_ns >= 1e9:
        return Finding(
            "saturated",
            "warning",
            f"the event loop was saturated at {st.throughput_rps:,.0f} req/s: it woke late for {share:.0%} of the run "
            f"in {len(blocked)} short stalls (the longest {fmt_ms(longest / 1e6)}, "
            f"lag p99 {fmt_ms(st.loop_lag_ms['p99'])}; {unmeasured})",
            evidence,
            weight=share * 100,
        )
    return Finding(
        "loop-kept-busy",
        "notice",
        f"the event loop was kept busy, waking late for {fmt_s(facts.blocked_ns / 1e9)} in all "
        f"({len(blocked)} short stalls, lag p99 {fmt_ms(st.loop_lag_ms['p99'])}; {unmeasured})",
        evidence,
        weight=share,
    )
