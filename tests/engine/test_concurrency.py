"""The headline claims, measured on a real server: what runs concurrently and what does not."""

from __future__ import annotations

from embedded_site.tracing import spans as k
from engine.stats import compute


def test_async_sleep_overlaps_on_the_loop(lab_runner):
    record = lab_runner.run("async-sleep", concurrency=50, requests=50, params={"delay": 0.5})
    stats = compute(record)
    assert stats.completed == 50 and stats.errors == 0
    assert stats.wall_s < 1.5
    assert stats.max_in_flight == 50
    # Every view ran on the loop thread.
    view_threads = {s.thread_id for r in record.server for s in r.spans if s.kind == k.VIEW}
    assert view_threads == {record.loop_thread_id}
    assert "fully concurrent" in stats.verdict


def test_sync_sleep_gets_a_thread_per_request(lab_runner):
    record = lab_runner.run("sync-sleep", concurrency=20, requests=20, params={"delay": 1.0})
    stats = compute(record)
    assert stats.errors == 0
    assert stats.wall_s < 3.0
    view_threads = {s.thread_id for r in record.server for s in r.spans if s.kind == k.VIEW}
    assert len(view_threads) >= 10
    assert record.loop_thread_id not in view_threads
    assert stats.distinct_server_threads >= 10


def test_blocking_sleep_serialises_and_shows_lag(lab_runner):
    record = lab_runner.run("blocking-sleep", concurrency=5, requests=5, params={"delay": 0.5})
    stats = compute(record)
    assert stats.errors == 0
    assert stats.wall_s >= 2.4
    assert stats.loop_lag_ms["max"] >= 400
    assert stats.blocked_ms >= 1500
    assert "blocked" in stats.verdict


def test_sync_to_async_hop_is_split_into_wait_and_run(lab_runner):
    record = lab_runner.run("sync-sleep", concurrency=2, requests=2, params={"delay": 0.1})
    for request in record.server:
        waits = [s for s in request.spans if s.kind == k.HOP_WAIT]
        runs = [s for s in request.spans if s.kind == k.HOP_RUN]
        assert waits and runs
        view_run = next(s for s in runs if "sync_endpoint" in s.name)
        assert view_run.duration_ns >= 0.09e9
        assert view_run.thread_id != record.loop_thread_id
        # The wait ends where the run starts.
        wait = next(s for s in waits if s.name == view_run.name)
        assert wait.end_ns == view_run.start_ns
        assert wait.thread_id == record.loop_thread_id


def test_open_loop_counts_latency_from_the_intended_send_time(lab_runner):
    # 40 requests due at 100/s but only 2 connections for 0.1 s sleeps: the client must
    # queue, and that queueing shows as latency instead of being hidden.
    record = lab_runner.run("async-sleep", concurrency=2, requests=40, rate=100.0, params={"delay": 0.1})
    stats = compute(record)
    assert stats.completed == 40
    queued = [c for c in record.client if c.sent_ns - c.intended_ns > 50_000_000]
    assert len(queued) >= 20
    assert stats.latency_ms["max"] > 1000
    intended = sorted(c.intended_ns for c in record.client)
    gaps = [(b - a) / 1e6 for a, b in zip(intended, intended[1:])]
    assert all(9 <= g <= 11 for g in gaps)


def test_every_client_request_has_its_server_side(lab_runner):
    record = lab_runner.run("hello", concurrency=10, requests=200)
    by_client = record.server_by_client_id()
    assert len(by_client) == 200
    for client in record.client:
        server = by_client[client.id]
        assert client.sent_ns <= server.arrival_ns <= server.end_ns <= client.done_ns
        assert server.status == client.status == 200
        assert server.bytes_sent == client.bytes > 0


def test_django_starts_a_thread_for_every_request_even_async_ones(lab_runner):
    # The request_started / request_finished signal handlers are sync, so each request's
    # thread-sensitive context gets its own executor thread, started on the loop thread.
    record = lab_runner.run("hello", concurrency=5, requests=20)
    stats = compute(record)
    assert stats.threads_started == 20
    for request in record.server:
        waits = [s for s in request.spans if s.kind == k.HOP_WAIT]
        assert sum(s.name.endswith(k.NEW_THREAD) for s in waits) == 1
        assert waits[0].name.endswith(k.NEW_THREAD)
