"""Runs one run at a time for the window: start, stop, frame pacing, GC policy, the last heartbeat.

The window only lays things out; this object owns the run's task and its repaint timer. While
a run is going a QTimer refreshes the ``RunView`` at most 30 times a second, and slower if
refreshing costs more than a twentieth of the loop's time, so the GUI cannot distort what it
measures. When the run ends it waits for the heartbeat's last sample, collects the run's
garbage once, and builds the finished timeline in slices between frames (the window and the
server on the same loop keep answering meanwhile).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from embedded_site.tracing.heartbeat import HEARTBEAT_PERIOD_S
from engine.config import RunConfig
from engine.lab import Lab
from engine.record import RunRecord
from engine.stats import compute

from .geometry import gc_paused
from .run_view import RunView
from .timeline_model import TimelineModel

FRAME_MS = 33  # ≤ 30 fps
GUI_SHARE = 0.05  # refreshing may use at most this share of the loop's time
FREEZE_WARN_S = 0.5
PROGRESS_S = 0.25  # the progress text changes at most this often (each change lays out the toolbar)
FINISH_SLICE_S = 0.008  # building a finished model: at most this long between two frames


class RunController(QObject):
    """Starts and stops runs on ``lab`` and draws them live in ``view``.

    Signals, in order: ``started(record)`` when the first request is about to go, ``progress(text)``
    as it goes, ``measured(record, stats)`` once the numbers are final (before the picture is),
    ``built(record, stats, model)`` with the finished timeline, ``failed(message)`` if the run
    raised, ``run_over`` when the load has ended either way, and ``finished(record or None)`` last, always."""

    starting = Signal(object)  # RunConfig
    started = Signal(object)  # RunRecord
    progress = Signal(str)
    measured = Signal(object, object)  # RunRecord, RunStats
    built = Signal(object, object, object)  # RunRecord, RunStats, TimelineModel
    failed = Signal(str)
    run_over = Signal()  # the load has ended (Stop no longer applies); the picture may still be building
    finished = Signal(object)  # RunRecord | None

    def __init__(self, lab: Lab, view: RunView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lab = lab
        self.view = view
        self.task: asyncio.Task[RunRecord | None] | None = None
        self.held = False  # a series of runs (a comparison) is going: no other run may start
        # Awaited before each run starts (the window waits for the last run's storing, so it
        # cannot weigh on this run's loop).
        self.prepare: Callable[[], Awaitable[None]] | None = None
        self._started = 0.0
        self._progress_shown = 0.0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)

    @property
    def busy(self) -> bool:
        """A run is going, its finished picture is still being built, or a series is going."""
        return self.held or self.lab.running or (self.task is not None and not self.task.done())

    def start(self, config: RunConfig, freeze_s: float = 0.0) -> asyncio.Task[RunRecord | None]:
        """Start ``config`` as a task; ``freeze_s``: how long it is predicted to block the loop
        (above FREEZE_WARN_S the window gets one paint of its warning before the loop blocks)."""
        self.task = asyncio.get_running_loop().create_task(self.run(config, freeze_s), name="explorer-run")
        return self.task

    async def run(self, config: RunConfig, freeze_s: float = 0.0) -> RunRecord | None:
        """Run ``config`` to the end, drawing it live; the finished record (None if it failed)."""
        self.starting.emit(config)
        self._progress_shown = 0.0
        self.progress.emit("  starting…")  # never the previous run's numbers
        if freeze_s > FREEZE_WARN_S:
            self.progress.emit(f"  running: the window freezes for about {freeze_s:.1f} s…")
            self.view.window().repaint()  # paint the warning now: the loop is about to be blocked
            await asyncio.sleep(0.05)
        if self.prepare is not None:
            await self.prepare()
        record: RunRecord | None = None
        self._started = time.perf_counter()
        try:
            try:
                record = await self.lab.run(config, on_started=self._on_started)
            except Exception as exc:  # a failed run must not take the window down
                self.failed.emit(f"the run failed: {exc!r}")
            finally:
                self.timer.stop()
                self.run_over.emit()
            if record is not None:
                await self._finish(record)
        finally:
            self.finished.emit(record)
        return record

    def _on_started(self, record: RunRecord) -> None:
        self.view.show_live(record)
        self.started.emit(record)
        self.timer.start(FRAME_MS)

    def tick(self) -> None:
        """Refresh the live picture; slow down if that costs more than GUI_SHARE of the loop."""
        if self.view.model is None:
            return
        t = time.perf_counter()
        self.view.refresh_live()
        if t - self._progress_shown >= PROGRESS_S:
            self._progress_shown = t
            done, total = self.lab.progress
            elapsed = t - self._started
            self.progress.emit(f"  {done} / {total if total is not None else '…'} requests · {elapsed:.1f} s")
        cost_ms = (time.perf_counter() - t) * 1000
        self.timer.setInterval(int(max(FRAME_MS, min(1000, cost_ms / GUI_SHARE))))

    async def _finish(self, record: RunRecord) -> None:
        # Let the heartbeat's last sample land before anything takes time: a sleep that began
        # while the run was recorded is still counted when it wakes (the lag is the run's).
        self.progress.emit("  building the timeline…")
        self.view.show_running("Building the timeline…")
        await asyncio.sleep(2 * HEARTBEAT_PERIOD_S)
        stats = compute(record)
        self.measured.emit(record, stats)
        # The live model goes on to the end of the same derivation: its settled bars are the final ones.
        live = self.view.model
        model = live if live is not None and live.record is record else TimelineModel(record)
        with gc_paused():
            gc.collect()  # the run's cyclic garbage, once: its full collections were held back
        steps = model.finish_steps()
        done = False
        while not done:
            deadline = time.perf_counter() + FINISH_SLICE_S
            with gc_paused():
                while time.perf_counter() < deadline:
                    if next(steps, StopIteration) is StopIteration:
                        done = True
                        break
            if not done:
                await asyncio.sleep(0)
        self.built.emit(record, stats, model)

    def stop(self) -> bool:
        """Ask the run in progress to stop (it keeps what it measured); False if none was going."""
        if self.lab.running:
            self.lab.stop_run()
            return True
        return False

    async def wait_idle(self) -> None:
        """Stop a run in progress and wait for its task (used when the window closes)."""
        if shiboken6.isValid(self.timer):  # a closing window's children may be deleted already
            self.timer.stop()
        self.stop()
        if self.task is not None and not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 15)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)
