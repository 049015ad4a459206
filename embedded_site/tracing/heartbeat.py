"""Measure event-loop lag: a task that asks to wake every few milliseconds and notes how late it was.

When something blocks the loop (``time.sleep`` in an ``async def`` view, CPU work, a sync
ORM call on the loop thread), the heartbeat cannot run and its next sample shows the
whole stall.  Samples are kept only while the collector is recording a run.  The same
task sweeps the run's cyclic garbage every few hundred requests (see ``garbage``).
"""

from __future__ import annotations

import asyncio

from .collector import TraceCollector, now_ns
from .garbage import GarbageSweeper
from .spans import LagSample

HEARTBEAT_PERIOD_S = 0.004


async def run_heartbeat(collector: TraceCollector, period_s: float = HEARTBEAT_PERIOD_S) -> None:
    period_ns = int(period_s * 1e9)
    sweeper = GarbageSweeper(collector)
    while True:
        due = now_ns() + period_ns
        # A sweep holds the loop for a few ms: after ``due``, so that the next sample counts
        # it as the loop stall it is.
        sweeper.sweep_if_due()
        # A sample counts if the run was being recorded when the wait began: a stall that
        # ends with the run's last response must not be dropped.
        was_recording = collector.recording
        await asyncio.sleep(period_s)
        woke = now_ns()
        if was_recording or collector.recording:
            # A wait that began before the recording only counts from its start (an idle
            # loop that was not running between two runs is not a stall of this run).
            due = max(due, collector.recording_since_ns)
            # ...and a wait that ends after it only counts up to its end.
            until = collector.recording_until_ns
            if until is not None and woke > until:
                woke = until
            collector.lag.append(LagSample(woke, max(0, woke - due)))
