"""Requests that failed: the view raised, or the answer was an error status.

Requests ended by Stop are not failures (see ``cancelled``), nor are requests the client
gave up on (also ``cancelled``: what the server did with them is the finding there).
"""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


@rule("failures")
def failures(facts: Facts) -> Finding | None:
    cancelled = {id(c) for c in facts.stopped_clients} | {id(c) for c in facts.timed_out_clients}
    failed = [c for c in facts.failed if id(c) not in cancelled]
    if not failed:
        return None
    n = facts.n - len(facts.stopped_clients)
    exceptions = facts.stats.exceptions
    what = next(iter(exceptions), None)
    if what:
        message = next((s.exception for s in facts.server if s.exception_type == what and s.exception), "")
        message = message.splitlines()[0][:160].rstrip(".") if message else ""
        cause = f"the view raised {what}" + (f": {message}" if message else "")
    else:
        cause = failed[0].error or f"HTTP {failed[0].status}"
    evidence = {"failed": len(failed), "requests": n, "exception": what or "", "cause": cause}
    if len(failed) == n:
        return Finding("all-failed", "problem", f"all {n} requests failed: {cause}", evidence, weight=1000)
    return Finding("some-failed", "warning", f"{len(failed)} of {n} requests failed: {cause}", evidence, weight=500)
