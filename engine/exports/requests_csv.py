"""One CSV row per client request, with the server's times beside the client's (ms from the run's start)."""

from __future__ import annotations

import csv
from pathlib import Path

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
        return "" if ns is None else f"{(ns - origin) / 1e6:.3f}"

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        rows = []
        for c in list(record.client):
            s = by_client.get(c.id)
            rows.append(
                [
                    c.id,
                    c.demo,
                    c.url,
                    c.status or "",
                    c.error or "",
                    (s.exception_type or "") if s else "",
                    ms(c.intended_ns),
                    ms(c.sent_ns),
                    ms(s.arrival_ns if s else None),
                    ms(s.response_start_ns if s else None),
                    ms(s.end_ns if s else None),
                    ms(c.done_ns),
                    f"{c.latency_ns / 1e6:.3f}" if c.latency_ns is not None else "",
                    f"{(s.end_ns - s.arrival_ns) / 1e6:.3f}" if s and s.end_ns else "",
                    c.bytes,
                    sum(1 for sp in s.spans if sp.kind == "sql") if s else "",
                    len({sp.thread_id for sp in s.spans}) if s else "",
                ]
            )
            if len(rows) >= _CHUNK:
                writer.writerows(rows)
                rows = []
        writer.writerows(rows)
    return path
