"""The server-side collector: keeps nothing outside a run, and numbers threads per run."""

from __future__ import annotations

import asyncio
import threading

import httpx

from embedded_site.tracing import collector
from embedded_site.tracing.spans import HOP_RUN, VIEW
from engine.stats import compute


def _hammer(lab_runner, path: str, requests: int, concurrency: int = 20) -> list[int]:
    """Real HTTP requests to the lab's server, outside any run; their statuses."""

    async def go() -> list[int]:
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(base_url=lab_runner.lab.url, trust_env=False, limits=limits, timeout=30) as c:
            gate = asyncio.Semaphore(concurrency)

            async def one() -> int:
                async with gate:
                    return (await c.get(path)).status_code

            return await asyncio.gather(*(one() for _ in range(requests)))

    return lab_runner.loop.run_until_complete(go())


def test_serving_outside_a_run_keeps_nothing(lab_runner):
    record = lab_runner.run("hello", concurrency=2, requests=4)
    # A heartbeat wait that began while recording still reports (clipped to the run's end).
    lab_runner.loop.run_until_complete(asyncio.sleep(0.05))
    kept = (len(record.server), len(record.lag), len(record.thread_names))
    statuses = _hammer(lab_runner, "/demo/sync-sleep/?delay=0", 600)
    assert set(statuses) == {200}
    # Nothing was added to the last run's record or to the collector's lists.
    assert (len(record.server), len(record.lag), len(record.thread_names)) == kept
    assert len(collector.requests) == len(record.server) and len(collector.lag) == len(record.lag)
    # ...and a new run starts from an empty collector again.
    again = lab_runner.run("hello", concurrency=1, requests=3)
    assert len(again.server) == 3


def test_each_thread_of_a_run_is_counted_even_when_its_os_id_is_reused(lab_runner):
    # Two at a time, 40 sync views: each request's thread ends with it, so the OS hands
    # the same few idents out again and again.
    record = lab_runner.run("sync-sleep", concurrency=2, requests=40, params={"delay": 0.005})
    view_threads = {s.thread_id for r in record.server for s in r.spans if s.kind == VIEW}
    assert len(view_threads) == 40
    assert compute(record).distinct_server_threads == 41  # and the event loop
    assert record.loop_thread_id == 1
    assert sorted(record.thread_names) == list(range(1, 42))
    labels = {record.thread_label(t) for t in view_threads}
    assert labels == {f"request thread #{n}" for n in range(1, 41)}


def test_hello_x500_counts_500_started_threads_numbered_from_1_in_each_run(lab_runner):
    for _ in range(2):
        record = lab_runner.run("hello", concurrency=10, requests=500)
        stats = compute(record)
        assert stats.threads_started == 500
        hop_threads = {s.thread_id for r in record.server for s in r.spans if s.kind == HOP_RUN}
        assert len(hop_threads) == 500
        assert stats.distinct_server_threads == 501
        assert record.loop_thread_id == 1 and record.thread_label(1) == "event loop (main thread)"
        assert sorted(record.thread_names) == list(range(1, 502))
        # Numbered in order of first use: a thread's number grows with its first span's start.
        first = {}
        for r in record.server:
            for s in r.spans:
                if s.thread_id != 1:
                    first[s.thread_id] = min(first.get(s.thread_id, s.start_ns), s.start_ns)
        ordered = sorted(first, key=first.__getitem__)
        assert ordered == sorted(ordered)


def test_a_new_thread_gets_a_new_id_whatever_ident_it_is_given():
    ids = []

    def note() -> None:
        ids.append(collector.note_thread())

    for _ in range(20):  # one after another: the OS reuses the ident of the ended one
        thread = threading.Thread(target=note)
        thread.start()
        thread.join()
    assert len(set(ids)) == 20
