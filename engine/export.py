"""Exports of a run record: Chrome Trace Event JSON (opens in Perfetto), CSV of requests, the record as JSON."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

from .phases import request_bars, thread_lanes
from .record import RunRecord
from .stats import compute

REQUESTS_PID = 1
THREADS_PID = 2


def _us(ns: int, origin: int) -> float:
    return round((ns - origin) / 1000, 3)


def chrome_trace(record: RunRecord) -> dict[str, Any]:
    """Trace Event Format: complete events (ph "X", µs), one lane (tid) per request in one
    process and one per server thread in another, thread_name metadata, and a counter
    track for the event loop's lag."""
    origin = record.started_ns
    end = record.finished_ns or max((c.done_ns or 0 for c in record.client), default=origin)
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": REQUESTS_PID, "tid": 0, "name": "process_name", "args": {"name": "requests"}},
        {"ph": "M", "pid": THREADS_PID, "tid": 0, "name": "process_name", "args": {"name": "server threads"}},
    ]
    for lane, bar in enumerate(request_bars(record, end), start=1):
        label = f"#{bar.client_id} {bar.path}" if bar.client_id is not None else f"(server only) {bar.path}"
        events.append({"ph": "M", "pid": REQUESTS_PID, "tid": lane, "name": "thread_name", "args": {"name": label}})
        events.append(
            {
                "ph": "X",
                "pid": REQUESTS_PID,
                "tid": lane,
                "name": bar.demo or bar.path,
                "cat": "request",
                "ts": _us(bar.start_ns, origin),
                "dur": _us(bar.end_ns, bar.start_ns),
                "args": {"status": bar.status, "error": bar.error, "exception": bar.exception_type},
            }
        )
        for phase in bar.phases:
            events.append(
                {
                    "ph": "X",
                    "pid": REQUESTS_PID,
                    "tid": lane,
                    "name": phase.phase,
                    "cat": "phase",
                    "ts": _us(phase.start_ns, origin),
                    "dur": _us(phase.end_ns, phase.start_ns),
                    "args": {
                        "detail": phase.detail,
                        "thread": record.thread_label(phase.thread_id) if phase.thread_id else "",
                    },
                }
            )
    # Thread idents are 64-bit addresses; trace viewers want small lane numbers.
    for tid, lane in enumerate(thread_lanes(record), start=1):
        events.append({"ph": "M", "pid": THREADS_PID, "tid": tid, "name": "thread_name", "args": {"name": lane.label}})
        for span in lane.spans:
            events.append(
                {
                    "ph": "X",
                    "pid": THREADS_PID,
                    "tid": tid,
                    "name": span.phase,
                    "cat": "thread",
                    "ts": _us(span.start_ns, origin),
                    "dur": _us(span.end_ns, span.start_ns),
                    "args": {"detail": span.detail},
                }
            )
    for sample in list(record.lag):
        events.append(
            {
                "ph": "C",
                "pid": THREADS_PID,
                "tid": 0,
                "name": "event loop lag (ms)",
                "ts": _us(sample.t_ns, origin),
                "args": {"lag": round(sample.lag_ns / 1e6, 3)},
            }
        )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"target": record.config.target, **record.versions, "verdict": compute(record).verdict},
    }


def write_chrome_trace(record: RunRecord, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(chrome_trace(record), separators=(",", ":")))
    return path


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

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for c in list(record.client):
            s = by_client.get(c.id)
            writer.writerow(
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
    return path


def record_dict(record: RunRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    data["thread_names"] = {str(k): v for k, v in record.thread_names.items()}
    data["stats"] = compute(record).as_dict()
    return data


def write_json(record: RunRecord, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(record_dict(record), default=str))
    return path
