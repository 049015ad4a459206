"""Several SQL queries in one request: did they ever overlap, even when gathered?"""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


@rule("sql-serialised")
def sql_serialised(facts: Facts) -> Finding | None:
    q = facts.stats.sql
    if not q:
        return None
    evidence = {k: v for k, v in q.items() if isinstance(v, int | float)}
    if q["requests_with_overlap"] == 0 and q["requests_issuing_together"]:
        return Finding(
            "sql-serialised",
            "warning",
            f"{q['queries_per_request']:g} ORM queries gathered in one view took {q['span_over_one_query']:.1f}× "
            f"one query: serialised on the request's sync thread",
            evidence,
            weight=q["span_over_one_query"],
        )
    if q["requests_with_overlap"] == 0:
        return Finding(
            "sql-one-after-another",
            "info",
            f"{q['queries_per_request']:g} SQL queries per request, one after another",
            evidence,
            weight=1,
        )
    return Finding(
        "sql-overlapped",
        "info",
        f"the SQL queries of {q['requests_with_overlap']} of {q['requests_with_several_queries']} requests overlapped",
        evidence,
        weight=1,
    )
