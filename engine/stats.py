"""Numbers and a verdict computed from a run record, never from what a demo is supposed to do."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from typing import Any

from .findings import find
from .findings.facts import BLOCKED_THRESHOLD_NS, Facts, gather
from .findings.measure import max_overlap, mean_overlap, most_open, percentile, percentiles
from .findings.verdict import headline
from .record import ClientRequest, RunRecord

__all__ = ["BLOCKED_THRESHOLD_NS", "RunStats", "compute", "max_overlap", "mean_overlap", "percentile"]


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
    view_concurrency: float  # views' working time over the time any view worked: 1.0 = one at a time
    view_ms: float  # the views' total time
    sql: dict[str, Any] = field(default_factory=dict)
    per_demo: dict[str, dict[str, float]] = field(default_factory=dict)  # only when a run mixes demos
    verdict: str = ""  # the headline finding as one sentence
    cancelled: int = 0  # requests ended by Stop: not failures, not counted in ``errors``
    blocked_share: float = 0.0  # blocked_ms over the run's wall time (never more than 1)
    stalls: int = 0  # separate stretches of a blocked loop
    longest_stall_ms: float = 0.0
    views_at_once: int = 0  # views doing their work at once (hop waits cut out), not counting instants: see p95
    views_at_once_max: int = 0  # the most at one instant
    views_at_once_mean: float = 0.0  # views doing their work, on average while any was
    findings: list[dict[str, Any]] = field(default_factory=list)  # [{id, severity, sentence, evidence}]
    # The loop thread's measured busy share and its split (``LoopBusy.as_dict``); {} if not measured.
    loop_busy: dict[str, Any] = field(default_factory=dict)
    target: str = ""  # the demo or scenario run, whose checks apply
    # The server's CPU (user + system) per answered request, from the OS's counters: a child
    # server's processes, or for the embedded server the lab's own process (server and lab
    # together; the load driver has a process of its own). None when the record has no reading.
    cpu_ms_per_request: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sql_serialisation(several: list[tuple[Any, Any]]) -> dict[str, Any]:
    """For requests with several SQL queries: did their queries ever overlap in time?"""
    if not several:
        return {}
    overlapping = 0
    ratios = []
    # Were the queries *asked for* together (e.g. asyncio.gather)?  Then their thread hops
    # were waiting at the same time, even if the queries themselves ran one by one.
    issued_together = 0
    for spans, waits in several:
        waits = sorted(waits, key=lambda s: s.start_ns)
        if any(b.start_ns < a.end_ns for a, b in zip(waits, waits[1:])):
            issued_together += 1
        spans = sorted(spans, key=lambda s: s.start_ns)
        if any(b.start_ns < a.end_ns for a, b in zip(spans, spans[1:])):
            overlapping += 1
        mean = sum(s.duration_ns for s in spans) / len(spans)
        if mean > 0:
            ratios.append((spans[-1].end_ns - spans[0].start_ns) / mean)
    return {
        "requests_with_several_queries": len(several),
        "queries_per_request": round(sum(len(s) for s, _ in several) / len(several), 1),
        "requests_with_overlap": overlapping,
        "requests_issuing_together": issued_together,
        "span_over_one_query": round(sum(ratios) / len(ratios), 1) if ratios else 0.0,
        "threads_per_request": round(sum(len({s.thread_id for s in spans}) for spans, _ in several) / len(several), 2),
    }


def _per_demo(clients: list[ClientRequest]) -> dict[str, dict[str, float]]:
    """Latency by demo, for scenarios that mix several (first-seen order)."""
    if len({c.demo for c in clients}) < 2:
        return {}
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
    facts = gather(record)
    stats = _numbers(facts)
    facts.stats = stats
    found = find(facts)
    stats.findings = [f.as_dict() for f in found]
    stats.verdict = headline(facts, found)
    return stats


def cpu_ms_per_request(record: RunRecord, completed: int) -> float | None:
    """``record``'s server CPU over its answered requests, in ms (None: not measured)."""
    cpu_s = (record.extra.get("server") or {}).get("cpu_s")
    if cpu_s is None or completed <= 0:
        return None
    return round(float(cpu_s) * 1000 / completed, 3)


_status_of = attrgetter("status")


def _numbers(facts: Facts) -> RunStats:
    record, clients, server = facts.record, facts.clients, facts.server
    by_client = facts.by_client
    cancelled = len(facts.stopped_clients)
    errors = len(facts.failed) - cancelled
    statuses = {str(k) if k is not None else "no response": v for k, v in Counter(map(_status_of, clients)).items()}
    exceptions = Counter(s.exception_type for s in server if s.exception_type)
    wall_ns = facts.wall_ns if clients else 1
    # Each per-request list is reduced to its numbers at once and let go: on a 100,000-request
    # run every one of them is megabytes, and together they set the run's peak memory.
    latencies = [(c.done_ns - c.intended_ns) / 1e6 for c in clients]  # type: ignore[operator]
    p50, p95, p99 = percentiles(latencies, (50, 95, 99))
    slowest = max(latencies, default=0.0)
    del latencies
    server_total_ns = served = 0
    for c in clients:
        s = by_client.get(c.id)
        if s is not None and s.end_ns is not None:
            server_total_ns += s.end_ns - s.arrival_ns
            served += 1
    threads = {s.thread_id for s in server} | facts.threads
    views = facts.views
    threads_started = facts.thread_starts.count
    lags = [s.lag_ns / 1e6 for s in list(record.lag)]
    blocked_ns = facts.blocked_ns
    return RunStats(
        requests=len(record.client),
        completed=len(clients),
        cpu_ms_per_request=cpu_ms_per_request(record, len(clients)),
        errors=errors,
        statuses=dict(sorted(statuses.items())),
        exceptions=dict(exceptions.most_common()),
        wall_s=round(wall_ns / 1e9, 4),
        throughput_rps=round((len(clients) - cancelled) / (wall_ns / 1e9), 1) if clients else 0.0,
        latency_ms={"p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2)} | {"max": round(slowest, 2)},
        max_in_flight=most_open([c.sent_ns for c in clients], [c.done_ns for c in clients]),  # type: ignore[arg-type]
        distinct_server_threads=len(threads),
        loop_lag_ms={"p99": round(percentile(lags, 99), 2), "max": round(max(lags, default=0.0), 2)},
        blocked_ms=round(blocked_ns / 1e6, 1),
        speedup=round(server_total_ns / wall_ns, 2),
        mean_server_ms=round(server_total_ns / served / 1e6, 2) if served else 0.0,
        threads_started=threads_started,
        view_concurrency=round(views.mean, 2),
        view_ms=round(facts.view_ns / 1e6, 1),
        sql=_sql_serialisation(facts.several_sql),
        per_demo=_per_demo(clients),
        cancelled=cancelled,
        blocked_share=round(min(1.0, blocked_ns / wall_ns), 3) if clients else 0.0,
        stalls=len(facts.blocked),
        longest_stall_ms=round(max((e - s for s, e in facts.blocked), default=0) / 1e6, 1),
        views_at_once=views.level_exceeded(0.05),
        views_at_once_max=views.most,
        views_at_once_mean=round(views.mean, 2),
        loop_busy=facts.loop_busy.as_dict() if facts.loop_busy is not None else {},
        target=record.config.target,
    )
