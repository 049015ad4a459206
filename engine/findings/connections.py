"""PostgreSQL connections: how many the site opened and held for the requests it served.

Under ASGI every sync ORM call runs on a thread, and Django keeps one connection per
thread: without a pool, N requests in flight open N connections; with ``CONN_MAX_AGE`` > 0
those connections outlive their requests.  The counts are PostgreSQL's own
(``pg_stat_activity``, sampled every ~50 ms) and Django's ``connection_created`` signal.
"""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


@rule("connections")
def connections(facts: Facts) -> Finding | None:
    record = facts.record
    if record.database.get("vendor") != "postgresql" or not record.connections:
        return None
    counts = [c for _, c in record.connections]
    peak = max(counts)
    counted = "opened" in record.database  # Django's signal, in the lab's own process
    opened = int(record.database["opened"] if counted else record.database.get("backends_seen", 0))
    concurrent = facts.stats.max_in_flight
    limit = record.database.get("max_connections")
    left_open = counts[-1]
    evidence: dict[str, float | int | str] = {
        "opened": opened,
        "connects": int(record.database.get("connects", 0)),
        "concurrent": concurrent,
        "peak": peak,
        "left_open": left_open,
        "samples": len(counts),
        "pool": "yes" if record.database.get("pool") else "no",
        "conn_max_age": str(record.database.get("conn_max_age")),
        "unsampled": len(record.connection_errors),
    }
    if limit:
        evidence["max_connections"] = int(limit)
    if record.database.get("pool") and counted:
        how = f"the pool lent them {evidence['connects']} times"
    elif record.database.get("pool"):
        how = "through the pool"
    else:
        how = f"CONN_MAX_AGE {record.database.get('conn_max_age')}"
    if not counted:  # a child server: only what the 50 ms samples saw, a lower bound
        evidence["opened_at_least"] = opened
    sentence = (
        f"{'' if counted else 'at least '}{opened} connection{'s' if opened != 1 else ''} opened for "
        f"{concurrent} concurrent requests; "
        f"peak {peak} at once, {left_open} still open at the end ({how})"
    )
    if record.connection_errors:
        sentence += f"; {len(record.connection_errors)} samples failed: {record.connection_errors[0][1]}"
    severity = "notice"
    if limit and peak >= int(limit) - 1:
        severity = "warning"
        sentence += f"; the server's max_connections is {limit}"
    return Finding("connections", severity, sentence, evidence, weight=peak)
