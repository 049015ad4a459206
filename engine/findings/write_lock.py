"""SQL writes from concurrent requests and SQLite's write lock.

SQLite lets one connection write at a time; a second writer waits for the lock inside its
statement.  So where write statements of different requests overlap in time, all but one
of them were waiting: the overlap is the measured cost of the lock.
"""

from __future__ import annotations

from embedded_site.tracing.spans import SQL

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, max_overlap, percentile, total, union

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(WRITES)


@rule("write-lock")
def write_lock(facts: Facts) -> Finding | None:
    if facts.record.database.get("vendor", "sqlite") != "sqlite":
        return None  # PostgreSQL locks rows, not the database: overlapping writes need not wait
    spans = facts.spans.get(SQL, ())
    owners = facts.span_request.get(SQL, ())
    writes = [(s, r) for s, r in zip(spans, owners) if is_write(s.name)]
    requests = {id(r) for _, r in writes}
    if len(requests) < 2:
        return None
    intervals = [(s.start_ns, s.end_ns) for s, _ in writes]
    in_writes = total(intervals)
    waiting = in_writes - total(union(intervals))  # time with more than one write open: the extras waited
    durations = [s.duration_ns / 1e6 for s, _ in writes]
    evidence = {
        "writes": len(writes),
        "requests": len(requests),
        "writes_at_once": max_overlap(intervals),
        "write_s": round(in_writes / 1e9, 4),
        "lock_wait_s": round(waiting / 1e9, 4),
        "lock_wait_share": round(waiting / in_writes, 3) if in_writes else 0.0,
        "write_p50_ms": round(percentile(durations, 50), 2),
        "write_min_ms": round(min(durations), 2),
        "write_max_ms": round(max(durations), 2),
        "on_loop": sum(1 for s, _ in writes if s.thread_id == facts.loop_thread_id),
    }
    share = evidence["lock_wait_share"]
    if evidence["writes_at_once"] <= 1:
        sentence = (
            f"the {len(writes)} SQL writes of {len(requests)} requests never overlapped: SQLite took them one at a "
            f"time (write p50 {fmt_ms(evidence['write_p50_ms'])})"
        )
    else:
        sentence = (
            f"SQL writes of {len(requests)} requests queued on SQLite's write lock: up to "
            f"{evidence['writes_at_once']} were open at once, and {share:.0%} of the time in writes was waiting "
            f"(write p50 {fmt_ms(evidence['write_p50_ms'])}, fastest {fmt_ms(evidence['write_min_ms'])}, "
            f"slowest {fmt_ms(evidence['write_max_ms'])})"
        )
    return Finding("write-lock", "warning" if share >= 0.3 else "notice", sentence, evidence, weight=share * 10)
