"""A run that did not end the way it was asked to: the load driver died, or the user stopped it."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


@rule("incomplete")
def incomplete(facts: Facts) -> Finding | None:
    record = facts.record
    reason = getattr(record, "incomplete", None) or next(
        (n for n in record.notes if n.startswith("the load driver failed")), None
    )
    if not reason:
        return None
    done = facts.n
    return Finding(
        "incomplete",
        "problem",
        f"the run is incomplete: {reason}",
        {"reason": str(reason), "finished": done, "planned": record.config.total_requests or 0},
        weight=2000,
    )
