"""Views group: CPU work, cancellation on disconnect, a sync-only middleware, django.tasks."""

from __future__ import annotations

from embedded_site.tracing.spans import AWAIT, BLOCKING, CPU, HOP_RUN, HOP_WAIT, VIEW
from tests.site.sitecheck import max_lag_s, overlaps, pairs, seconds, spans

WORK_MS = 150


def _cpu_s(record) -> float:
    """The shortest CPU span in a run (the work's cost when nothing competed with it)."""
    return min(seconds(spans(s, CPU)[0].duration_ns) for _, s in pairs(record))


def test_cpu_in_async_view_runs_on_the_loop_and_serialises_requests(run_demo) -> None:
    alone = _cpu_s(run_demo("cpu-bound-async", requests=3, work=WORK_MS))
    record = run_demo("cpu-bound-async", concurrency=4, work=WORK_MS)
    cpu = [spans(s, CPU)[0] for c, s in pairs(record) if c.status == 200]
    assert len(cpu) == 4
    assert all(span.thread_id == record.loop_thread_id for span in cpu)
    assert not overlaps(cpu), "CPU work on the loop thread cannot overlap"
    # The four requests were sent together but answered one after another.
    latencies = sorted(seconds(c.latency_ns) for c, _ in pairs(record))
    assert latencies[-1] >= 3 * 0.8 * alone, (latencies, alone)


def test_cpu_in_a_thread_frees_the_loop_but_the_gil_still_serialises(run_demo) -> None:
    alone = _cpu_s(run_demo("cpu-bound-thread", requests=3, work=WORK_MS))
    record = run_demo("cpu-bound-thread", concurrency=4, work=WORK_MS)
    cpu = [spans(s, CPU)[0] for c, s in pairs(record) if c.status == 200]
    assert len(cpu) == 4
    assert all(span.thread_id != record.loop_thread_id for span in cpu)
    assert len({span.thread_id for span in cpu}) > 1  # the thread pool: one thread each
    assert overlaps(cpu)  # they do run at the same time, but not in parallel:
    wall = seconds(max(s.end_ns for s in cpu) - min(s.start_ns for s in cpu))
    assert wall >= 2.5 * alone, f"4 × {alone:.3f} s of pure-Python CPU took {wall:.3f} s: no GIL?"
    # The loop kept running meanwhile: the same four on the loop stall it for the longest.
    on_loop = run_demo("cpu-bound-async", concurrency=4, work=WORK_MS)
    assert max_lag_s(record) < 0.75 * max_lag_s(on_loop), (max_lag_s(record), max_lag_s(on_loop))


def test_client_disconnect_cancels_the_view(run_demo) -> None:
    record = run_demo("client-disconnect", concurrency=2, delay=5.0)
    for client, server in pairs(record):
        assert client.error is not None and "timeout" in client.error
        assert seconds(client.done_ns - client.sent_ns) < 2.0
        assert server.cancelled or server.disconnected
        assert server.status is None  # no response was ever started
        (view,) = spans(server, VIEW)
        assert view.error == "CancelledError"
        assert seconds(view.duration_ns) < 2.0, "the view must stop long before its 5 s sleep"
        (wait,) = spans(server, AWAIT)
        assert wait.error == "CancelledError"
        assert any(s.name == "cleanup after cancellation" for s in spans(server, CPU))


def test_sync_only_middleware_adds_a_thread_hop_to_every_request(run_demo) -> None:
    hello = run_demo("hello", concurrency=2, requests=4)
    penalty = run_demo("sync-middleware-penalty", concurrency=2, requests=4)
    for client, server in pairs(penalty):
        assert client.status == 200
        baseline = min(len(spans(s, HOP_RUN)) for _, s in pairs(hello))
        assert len(spans(server, HOP_RUN)) > baseline
        assert len(spans(server, HOP_WAIT)) > baseline
        hop = next(s for s in spans(server, HOP_RUN) if "convert_exception_to_response" in s.name)
        assert hop.thread_id != penalty.loop_thread_id
        # On that thread the middleware waited for the loop to run the view (async_to_sync).
        (back,) = spans(server, BLOCKING)
        assert back.thread_id == hop.thread_id
        assert hop.start_ns <= back.start_ns <= back.end_ns <= hop.end_ns


def test_task_enqueue_runs_the_task_with_the_immediate_backend(lab_runner, run_demo) -> None:
    response = lab_runner.fetch("/demo/task-enqueue/", params={"book": "7"})
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "SUCCESSFUL"
    assert len(result["id"]) == 32 and result["backend"] == "default"
    assert result["return_value"]["book_id"] == 7
    assert result["return_value"]["reviews"] == 3
    assert 1 <= result["return_value"]["average_rating"] <= 5

    record = run_demo("task-enqueue", concurrency=2, requests=4)
    for client, server in pairs(record):
        assert client.status == 200
        # The task's query ran during the request, on a sync thread, not on the loop.
        queries = [s for s in server.spans if s.kind == "sql" and "demos_review" in s.name]
        assert queries and all(q.thread_id != record.loop_thread_id for q in queries)
        (view,) = spans(server, VIEW)
        assert all(view.start_ns <= q.start_ns and q.end_ns <= view.end_ns for q in queries)
