"""A saturated loop: many short late wake-ups rather than one long stall, at the rate the
run achieved.  The heartbeat's lateness added up says for how much of the run the loop had
more ready work than it could run on time."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, fmt_s

LONG_STALL_NS = 100_000_000


@rule("saturation")
def saturation(facts: Facts) -> Finding | None:
    blocked = facts.blocked
    if not blocked or facts.blocked_ns < 20_000_000:
        return None
    longest = max(e - s for s, e in blocked)
    if longest >= LONG_STALL_NS or len(blocked) < 3:
        return None  # one or a few long stalls: loop-blocked names them
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
    if share >= 0.5 and facts.wall_ns >= 1e9:
        return Finding(
            "saturated",
            "warning",
            f"the event loop was saturated at {st.throughput_rps:,.0f} req/s: it woke late for {share:.0%} of the run "
            f"in {len(blocked)} short stalls (the longest {fmt_ms(longest / 1e6)}, "
            f"lag p99 {fmt_ms(st.loop_lag_ms['p99'])})",
            evidence,
            weight=share * 100,
        )
    return Finding(
        "loop-kept-busy",
        "notice",
        f"the event loop was kept busy, waking late for {fmt_s(facts.blocked_ns / 1e9)} in all "
        f"({len(blocked)} short stalls, lag p99 {fmt_ms(st.loop_lag_ms['p99'])})",
        evidence,
        weight=share,
    )
