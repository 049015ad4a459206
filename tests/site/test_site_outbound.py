"""Outbound group: sequential awaits add up, gathered awaits overlap."""

from __future__ import annotations

from embedded_site.tracing.spans import AWAIT
from tests.site.sitecheck import overlaps, pairs, seconds, spans

DELAY = 0.3


def test_gather_takes_about_one_delay(run_demo) -> None:
    record = run_demo("fanout-gather", width=5, delay=DELAY)
    ((client, server),) = pairs(record)
    assert client.status == 200
    assert seconds(client.latency_ns) < 2 * DELAY
    calls = spans(server, AWAIT)
    assert len(calls) == 5 and overlaps(calls)
    # The upstream really was called over HTTP: five more requests reached the server.
    upstream = [s for s in record.server if s.path == "/internal/slow/"]
    assert len(upstream) == 5 and all(s.status == 200 for s in upstream)


def test_sequential_takes_width_times_delay(run_demo) -> None:
    record = run_demo("fanout-sequential", width=5, delay=DELAY)
    ((client, server),) = pairs(record)
    assert client.status == 200
    assert seconds(client.latency_ns) >= 5 * DELAY
    calls = spans(server, AWAIT)
    assert len(calls) == 5 and not overlaps(calls)
    assert all(seconds(c.duration_ns) >= DELAY * 0.95 for c in calls)


def test_sequential_fanouts_still_share_the_loop(run_demo) -> None:
    # Each request is slow, but several of them overlap: the loop was never blocked.
    record = run_demo("fanout-sequential", concurrency=4, width=3, delay=DELAY)
    latencies = [seconds(c.latency_ns) for c, _ in pairs(record)]
    assert all(c.status == 200 for c, _ in pairs(record))
    assert max(latencies) < 2 * 3 * DELAY, latencies
