"""The lab's life cycle on the app's own Qt-driven loop: runs, Stop, and a clean shutdown."""

from __future__ import annotations

import asyncio
import threading

from engine import loops
from engine.lab import Lab
from engine.plan import make_config
from engine.stats import compute


def test_stop_mid_run_keeps_a_valid_partial_record(lab_runner):
    lab = lab_runner.lab

    async def run_and_stop():
        task = asyncio.ensure_future(
            lab.run(make_config("async-sleep", concurrency=5, requests=50, params={"delay": 0.3}))
        )
        await asyncio.sleep(1.0)  # room for the first five to finish on a busy machine
        lab.stop_run()
        return await task

    record = lab_runner.loop.run_until_complete(run_and_stop())
    assert record.stopped and record.finished
    finished = [c for c in record.client if c.ok]
    assert 5 <= len(finished) < 50
    assert all(c.done_ns is not None for c in record.client)
    stopped = [c for c in record.client if c.error]
    assert all("stopped" in c.error for c in stopped)
    stats = compute(record)
    assert stats.requests == len(record.client)


def test_a_run_waits_for_the_spans_django_records_after_the_response(lab_runner):
    """Django's request_finished receivers run in one more thread hop once the response has
    been sent: a record taken at the last response would lack the last requests' hops (seen
    as 2.7 hops a request for signal-asend on a loaded machine, where every request makes 3)."""
    import time

    from django.core.signals import request_finished

    from embedded_site.tracing.spans import HOP_WAIT

    def slow_receiver(**kwargs):
        time.sleep(0.2)  # on the hop's thread, after the response left

    request_finished.connect(slow_receiver, weak=False)
    try:
        record = lab_runner.run("hello", concurrency=2, requests=4)
    finally:
        request_finished.disconnect(slow_receiver)
    assert all(s.returned_ns is not None for s in record.server)
    hops = [sum(1 for span in s.spans if span.kind == HOP_WAIT) for s in record.server]
    assert len(set(hops)) == 1 and hops[0] >= 2, hops


def test_run_on_the_qt_loop_then_shut_down_cleanly():
    Lab.prepare()
    before = {t.ident for t in threading.enumerate()}
    leftovers: list[asyncio.Task] = []

    async def main():
        lab = Lab(loop_kind="qt")
        await lab.start()
        try:
            return await lab.run(make_config("sync-sleep", concurrency=8, params={"delay": 0.2}))
        finally:
            await lab.close()
            leftovers.extend(t for t in asyncio.all_tasks() if t is not asyncio.current_task())

    record = loops.run(main(), "qt")
    assert compute(record).errors == 0
    assert leftovers == []
    # Worker threads are joined by the loop's shutdown; give daemon threads a moment.
    for thread in threading.enumerate():
        if thread.ident not in before:
            thread.join(timeout=5)
    alive = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert alive == []
