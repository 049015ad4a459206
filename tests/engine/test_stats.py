"""Stats and verdicts from records built by hand: the arithmetic, independent of timing."""

from __future__ import annotations

from embedded_site.tracing.spans import LagSample, ServerRequest, Span
from engine.config import RunConfig, Stream
from engine.record import ClientRequest, RunRecord
from engine.stats import compute, max_overlap, mean_overlap, percentile

MS = 1_000_000


def _record(
    target: str, intervals: list[tuple[int, int]], lag: list[tuple[int, int]] = (), sql=None, views: bool = False
) -> RunRecord:
    record = RunRecord(RunConfig(target, (Stream(target, requests=len(intervals)),)), {}, "asyncio", "", 0)
    for i, (start, end) in enumerate(intervals, start=1):
        record.client.append(ClientRequest(i, 0, target, "", start * MS, start * MS, end * MS - 1, end * MS, 200, 10))
        server = ServerRequest(i, i, "GET", "/", "", start * MS, 1, end_ns=end * MS, status=200)
        if views:
            server.spans.append(Span("view", target, start * MS, end * MS, 1))
        for q_start, q_end in sql or []:
            server.spans.append(Span("sql", "SELECT 1", (start + q_start) * MS, (start + q_end) * MS, 7))
            # asyncio.gather: every query's thread hop was submitted at the start.
            server.spans.append(Span("hop-wait", "aggregate", start * MS, (start + q_start) * MS + 1, 1))
        record.server.append(server)
    record.lag.extend(LagSample(t * MS, v * MS) for t, v in lag)
    return record


def test_percentile_and_overlap():
    assert percentile([], 99) == 0
    assert percentile(list(range(1, 101)), 50) == 50
    assert percentile(list(range(1, 101)), 99) == 99
    assert max_overlap([(0, 10), (5, 15), (12, 20)]) == 2
    assert max_overlap([(0, 10), (10, 20)]) == 1
    assert mean_overlap([(0, 10), (10, 20)]) == 1.0
    assert mean_overlap([(0, 10)] * 4) == 4.0
    assert mean_overlap([(0, 10), (5, 15), (30, 40)]) == 30 / 25


def test_fully_concurrent_verdict():
    stats = compute(_record("async-sleep", [(0, 1000)] * 20, views=True))
    assert stats.wall_s == 1.0 and stats.max_in_flight == 20 and stats.speedup == 20.0
    assert stats.verdict.startswith("20 × async-sleep took 1.00 s: fully concurrent: up to 20 views ran at once")


def test_serial_verdict_when_the_loop_was_blocked():
    intervals = [(0, 500), (0, 1000), (0, 1500), (0, 2000), (0, 2500)]
    lag = [(500 * i, 500) for i in range(1, 5)]
    record = _record("blocking-sleep", intervals, lag)
    # The blocked loop could not even accept the later requests: each reached Django only
    # when the one before it had finished.
    for server in record.server:
        server.arrival_ns = server.end_ns - 500 * MS
    stats = compute(record)
    assert stats.blocked_ms == 2000
    assert "blocked for 2.00 s" in stats.verdict


def test_serialised_sql_verdict():
    queries = [(10 * i, 10 * i + 10) for i in range(5)]
    stats = compute(_record("orm-gather-serialised", [(0, 60)], sql=queries))
    assert stats.sql["requests_with_overlap"] == 0
    assert stats.sql["span_over_one_query"] == 5.0
    assert stats.verdict.startswith("1 × orm-gather-serialised took 0.06 s: 5 ORM queries gathered in one view")
    assert "took 5.0× one query: serialised" in stats.verdict


def test_all_failed_verdict_names_the_exception():
    record = _record("article-async-all", [(0, 5)] * 3)
    for c, s in zip(record.client, record.server):
        c.status = s.status = 500
        s.exception_type = "AttributeError"
    record.server[0].exception = "'Manager' object has no attribute 'async_all'"
    stats = compute(record)
    assert stats.errors == 3 and stats.exceptions == {"AttributeError": 3}
    assert "AttributeError: 'Manager' object has no attribute 'async_all'" in stats.verdict


def test_a_busy_loop_is_saturated_not_blocked():
    # Many short late wake-ups (no single long stall): saturation, not one blocking call.
    lag = [(i * 30, 25) for i in range(1, 60)]
    stats = compute(_record("hello", [(i * 20, i * 20 + 15) for i in range(100)], lag))
    assert "saturated" in stats.verdict and "blocked" not in stats.verdict


def test_one_long_stall_in_a_concurrent_run_is_named():
    # 50 requests overlap, but one 1 s stall held all of them.
    lag = [(200 + 1000, 1000)] + [(i * 4, 1) for i in range(1, 300)]
    stats = compute(_record("one-blocking-call", [(0, 1250)] * 50, lag))
    assert "blocked for 1.00 s at once" in stats.verdict
    assert "saturated" not in stats.verdict


def test_a_mixed_run_compares_its_demos():
    record = _record("fanout-race", [(0, 1000)] * 2 + [(0, 200)] * 2)
    for c in record.client[2:]:
        c.demo = "fanout-gather"
    for c in record.client[:2]:
        c.demo = "fanout-sequential"
    stats = compute(record)
    assert stats.per_demo["fanout-sequential"]["p50_ms"] == 1000
    assert stats.per_demo["fanout-gather"]["p50_ms"] == 200
    listed = {f["id"]: f["sentence"] for f in stats.findings}
    assert listed["per-demo"] == "fanout-sequential p50 1000 ms; fanout-gather p50 200 ms"
    assert stats.verdict.startswith("4 requests of fanout-race took 1.00 s")


def test_requests_that_arrived_together_but_blocked_in_turn_are_serial():
    # Three blocking views accepted at once, each blocking the loop 300 ms in turn: the
    # server-side durations (300, 600, 900 ms) overlap, the views do not.
    record = _record("blocking-sleep", [(0, 300), (0, 600), (0, 900)], lag=[(900, 900)])
    for i, server in enumerate(record.server):
        server.spans.append(Span("view", "blocking-sleep", i * 300 * MS, (i + 1) * 300 * MS, 1))
    stats = compute(record)
    assert stats.view_concurrency == 1.0
    assert "requests waited for each other (their views ran one at a time)" in stats.verdict
