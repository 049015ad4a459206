"""One CSV row per client request, with the server's times beside the client's (ms from the run's start)."""

from __future__ import annotations

import csv
from pathlib import Path

from embedded_site.tracing.spans import SQL, kind_count, thread_ids

from ..record import RunRecord

_CHUNK = 4096  # rows formatted before each write


CSV_COLUMNS = (
    "id",
    "demo",
    "url",
    "status",
    "error",
    "exception",
    "intended_ms",
    "sent_ms",
    "arrival_ms",
    "response_start_ms",
    "server_end_ms",
    "done_ms",
    "latency_ms",
    "server_ms",
    "bytes",
    "sql_queries",
    "threads",
)


def write_csv(record: RunRecord, path: str | Path) -> Path:
    """One row per client request; times in ms from the start of the run."""
    path = Path(path)
    origin = record.started_ns
    by_client = record.server_by_client_id()

    def ms(ns: int | None) -> str:
        return "" if ns is None else "%.3f" % ((ns - origin) / 1e6)  # noqa: UP031 (the fastest of the three)

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        rows = []
        add = rows.append
        for c in list(record.client):
            s = by_client.get(c.id)
            latency = c.latency_ns
            row = [
                c.id,
                c.demo,
                c.url,
                c.status or "",
                c.error or "",
                "",
                ms(c.intended_ns),
                ms(c.sent_ns),
                "",
                "",
                "",
                ms(c.done_ns),
                "" if latency is None else "%.3f" % (latency / 1e6),  # noqa: UP031
                "",
                c.bytes,
                "",
                "",
            ]
            if s is not None:
                spans = s.spans
                row[5] = s.exception_type or ""
                row[8] = ms(s.arrival_ns)
                row[9] = ms(s.response_start_ns)
                row[10] = ms(s.end_ns)
                if s.end_ns:
                    row[13] = "%.3f" % ((s.end_ns - s.arrival_ns) / 1e6)  # noqa: UP031
                row[15] = kind_count(spans, SQL)
                row[16] = len(thread_ids(spans))
            add(row)
            if len(rows) >= _CHUNK:
                writer.writerows(rows)
                rows.clear()
        writer.writerows(rows)
    return path
