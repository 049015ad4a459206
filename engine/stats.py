"""Numbers and a verdict computed from a run record, never from what a demo is supposed to do."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from embedded_site.tracing.spans import HOP_WAIT, NEW_THREAD, SQL, VIEW

from .phases import BLOCKED_THRESHOLD_NS  # a heartbeat this late means the loop was blocked
from .record import ClientRequest, RunRecord, ServerRequest


@dataclass
class RunStats:
    requests: int
    completed: int
    errors: int
    statuses: dict[str, int]
    exceptions: dict[str, int]
    wall_s: float
    throughput_rps: float
    latency_ms: dict[str, float]
    max_in_flight: int
    distinct_server_threads: int
    loop_lag_ms: dict[str, float]
    blocked_ms: float
    speedup: float
    mean_server_ms: float
    threads_started: int  # worker threads Django started for this run's requests
    view_concurrency: float  # views' total time over the time any view ran: 1.0 = one at a time
    view_ms: float  # the views' total time
    sql: dict[str, Any] = field(default_factory=dict)
    per_demo: dict[str, dict[str, float]] = field(default_factory=dict)  # only when a run mixes demos
    verdict: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an unsorted list; 0 for an empty one."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def mean_overlap(intervals: list[tuple[int, int]]) -> float:
    """Total length over the length of the union: 1.0 when no two intervals overlap, N when
    N run side by side the whole time."""
    if not intervals:
        return 0.0
    union = 0
    cur_start, cur_end = None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                union += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    union += cur_end - cur_start
    return sum(e - s for s, e in intervals) / union if union else 0.0


def max_overlap(intervals: list[tuple[int, int]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def _sql_serialisation(server: list[ServerRequest]) -> dict[str, Any]:
    """For requests with several SQL queries: did their queries ever overlap in time?"""
    multi = [[s for s in r.spans if s.kind == SQL] for r in server]
    multi = [spans for spans in multi if len(spans) >= 2]
    if not multi:
        return {}
    overlapping = 0
    ratios = []
    # Were the queries *asked for* together (e.g. asyncio.gather)?  Then their thread hops
    # were waiting at the same time, even if the queries themselves ran one by one.
    issued_together = 0
    for request in server:
        waits = sorted((s for s in request.spans if s.kind == HOP_WAIT), key=lambda s: s.start_ns)
        if any(b.start_ns < a.end_ns for a, b in zip(waits, waits[1:])):
            issued_together += 1
    for spans in multi:
        spans.sort(key=lambda s: s.start_ns)
        if any(b.start_ns < a.end_ns for a, b in zip(spans, spans[1:])):
            overlapping += 1
        mean = sum(s.duration_ns for s in spans) / len(spans)
        if mean > 0:
            ratios.append((spans[-1].end_ns - spans[0].start_ns) / mean)
    return {
        "requests_with_several_queries": len(multi),
        "queries_per_request": round(sum(len(s) for s in multi) / len(multi), 1),
        "requests_with_overlap": overlapping,
        "requests_issuing_together": issued_together,
        "span_over_one_query": round(sum(ratios) / len(ratios), 1) if ratios else 0.0,
        "threads_per_request": round(sum(len({s.thread_id for s in spans}) for spans in multi) / len(multi), 2),
    }


def _per_demo(clients: list[ClientRequest]) -> dict[str, dict[str, float]]:
    """Latency by demo, for scenarios that mix several (first-seen order)."""
    by_demo: dict[str, list[float]] = {}
    for c in clients:
        by_demo.setdefault(c.demo, []).append(c.latency_ns / 1e6)  # type: ignore[operator]
    if len(by_demo) < 2:
        return {}
    return {
        demo: {"requests": len(ms), "p50_ms": round(percentile(ms, 50), 1), "max_ms": round(max(ms), 1)}
        for demo, ms in by_demo.items()
    }


def compute(record: RunRecord) -> RunStats:
    clients = [c for c in list(record.client) if c.done_ns is not None and c.sent_ns is not None]
    server = [s for s in list(record.server) if s.end_ns is not None]
    by_client = record.server_by_client_id()
    errors = sum(1 for c in clients if not c.ok)
    statuses = Counter(str(c.status) if c.status is not None else "no response" for c in clients)
    exceptions = Counter(s.exception_type for s in server if s.exception_type)
    if clients:
        begin = min(c.intended_ns for c in clients)
        end = max(c.done_ns for c in clients)  # type: ignore[type-var]
        wall_ns = max(1, end - begin)
    else:
        wall_ns = 1
    latencies = [c.latency_ns / 1e6 for c in clients]  # type: ignore[operator]
    matched = [by_client[c.id] for c in clients if c.id in by_client and by_client[c.id].end_ns is not None]
    server_ns = [s.end_ns - s.arrival_ns for s in matched]  # type: ignore[operator]
    threads = {span.thread_id for s in server for span in s.spans} | {s.thread_id for s in server}
    views = [(sp.start_ns, sp.end_ns) for s in server for sp in s.spans if sp.kind == VIEW]
    threads_started = sum(
        1 for s in server for span in s.spans if span.kind == HOP_WAIT and span.name.endswith(NEW_THREAD)
    )
    lags = [s.lag_ns / 1e6 for s in list(record.lag)]
    blocked_ms = sum(s.lag_ns for s in list(record.lag) if s.lag_ns >= BLOCKED_THRESHOLD_NS) / 1e6
    stats = RunStats(
        requests=len(record.client),
        completed=len(clients),
        errors=errors,
        statuses=dict(sorted(statuses.items())),
        exceptions=dict(exceptions.most_common()),
        wall_s=round(wall_ns / 1e9, 4),
        throughput_rps=round(len(clients) / (wall_ns / 1e9), 1) if clients else 0.0,
        latency_ms={f"p{q}": round(percentile(latencies, q), 2) for q in (50, 95, 99)}
        | {"max": round(max(latencies, default=0.0), 2)},
        max_in_flight=max_overlap([(c.sent_ns, c.done_ns) for c in clients]),  # type: ignore[misc]
        distinct_server_threads=len(threads),
        loop_lag_ms={"p99": round(percentile(lags, 99), 2), "max": round(max(lags, default=0.0), 2)},
        blocked_ms=round(blocked_ms, 1),
        speedup=round(sum(server_ns) / wall_ns, 2),
        mean_server_ms=round(sum(server_ns) / len(server_ns) / 1e6, 2) if server_ns else 0.0,
        threads_started=threads_started,
        view_concurrency=round(mean_overlap(views), 2),
        view_ms=round(sum(e - b for b, e in views) / 1e6, 1),
        sql=_sql_serialisation(server),
        per_demo=_per_demo(clients),
    )
    stats.verdict = verdict(record, stats)
    return stats


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def verdict(record: RunRecord, st: RunStats) -> str:
    """One plain sentence, derived only from the measured numbers."""
    n = st.completed
    if n == 0:
        return (
            "Nothing finished: no request got an answer."
            if not record.stopped
            else "Stopped before any request finished."
        )
    lead = f"{n} × {record.config.target} took {_fmt_s(st.wall_s)}"
    if st.errors == n:
        what = next(iter(st.exceptions), None)
        if what:
            message = next((s.exception for s in record.server if s.exception_type == what and s.exception), "")
            message = message.splitlines()[0][:160].rstrip(".") if message else ""
            return f"All {n} requests failed: the view raised {what}" + (f": {message}" if message else "") + "."
        sample = next((c.error or f"HTTP {c.status}" for c in record.client if not c.ok), "an error")
        return f"All {n} requests failed: {sample}."
    wall_ms = st.wall_s * 1000
    ideal = min(n, st.max_in_flight) or 1
    threads = f", {st.distinct_server_threads} server threads" if st.distinct_server_threads > 1 else ""
    stalled = st.blocked_ms >= 0.25 * wall_ms
    one_long_stall = st.loop_lag_ms["max"] >= max(100.0, 0.1 * wall_ms)
    # The views themselves ran one at a time: requests that arrived together still waited
    # for each other, whatever the server-side durations add up to.
    views_serial = 0 < st.view_concurrency < 1.5  # 0: no view spans, nothing to tell
    # ...and it was the views that kept the loop busy (not the framework around them).
    views_blocked = views_serial and st.view_ms >= 0.5 * st.blocked_ms
    if stalled and (one_long_stall or views_blocked) and (ideal == 1 or views_serial or st.speedup < 0.5 * ideal):
        sentence = (
            f"{lead}: the event loop was blocked for {st.blocked_ms / 1000:.2f} s of it, "
            f"so requests waited for each other (their views ran one at a time)"
            if views_serial
            else f"{lead}: the event loop was blocked for {st.blocked_ms / 1000:.2f} s of it, "
            f"so requests waited for each other (speed-up {st.speedup:.1f}×)"
        )
    elif stalled and one_long_stall:
        sentence = (
            f"{lead}: concurrent until the event loop was blocked for {st.loop_lag_ms['max'] / 1000:.2f} s at once, "
            f"and every request in flight waited that long"
        )
    elif st.sql and st.sql["requests_with_overlap"] == 0 and st.sql["requests_issuing_together"]:
        q = st.sql
        sentence = (
            f"{q['queries_per_request']:g} ORM queries {'gathered ' if q['requests_issuing_together'] else ''}"
            f"in one view took {q['span_over_one_query']:.1f}× one query: serialised on the request's sync thread"
        )
    elif st.speedup >= 0.6 * ideal and ideal > 1:
        sentence = f"{lead}: fully concurrent ({st.max_in_flight} in flight, speed-up {st.speedup:.1f}×{threads})"
    elif st.speedup <= 1.3 and st.max_in_flight > 1:
        sentence = (
            f"{lead}: effectively one at a time (speed-up {st.speedup:.1f}× with {st.max_in_flight} in flight{threads})"
        )
    elif st.max_in_flight <= 1:
        sentence = f"{lead}, one request at a time (p50 {st.latency_ms['p50']:.1f} ms)"
    else:
        sentence = f"{lead}: partly concurrent (speed-up {st.speedup:.1f}× of {ideal} possible{threads})"
    parts = [sentence]
    if st.errors:
        parts.append(f"{st.errors} of {n} failed")
    if st.per_demo:
        parts.append("; ".join(f"{demo} p50 {d['p50_ms']:.0f} ms" for demo, d in st.per_demo.items()))
    if st.sql and "ORM" not in sentence:
        parts.append(f"{st.sql['queries_per_request']:g} SQL queries per request, one after another")
    if stalled and not one_long_stall and "blocked" not in sentence:
        busy = (
            f"saturated at {st.throughput_rps:.0f} req/s"
            if st.wall_s >= 1 and st.blocked_ms >= 0.5 * wall_ms
            else "kept busy"
        )
        parts.append(
            f"and the event loop was {busy}, waking late for "
            f"{st.blocked_ms / 1000:.2f} s in all (lag p99 {st.loop_lag_ms['p99']:.0f} ms)"
        )
    return ", ".join(parts) + "."
