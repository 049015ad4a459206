"""What the event loop's thread itself did: busy running callbacks (and whose) or idle, waiting.

The heartbeat says how *late* the loop woke; it cannot say how much of the time the loop was
working, nor for whom.  This meter times every callback the loop runs and charges it to the
request whose task it was (the ``current_request`` context variable of the callback's
context, as it was before or after it ran), to the server itself when no request's code ran
(uvicorn's protocol callbacks, the heartbeat, the watchdog's ticker), or to Qt (its event
dispatch and the window, between two asyncio iterations of the ``qt`` kind: the thread's CPU
time over that gap).  Time spent waiting (in the selector, or in Qt's own wait) is idle and
is not stored at all.

Cheap on the hot path, bounded in memory: while a run records, ``LoopMeter`` replaces the
loop's ``_run_once`` with a copy of CPython's (3.12-3.14) that reads the clock once per
callback and adds its duration to a per-bucket dict (owner -> busy ns, ``BUCKET_NS`` wide);
a finished bucket is flushed into flat lists of ints (``LoopActivity``), naming at most its
``TOP_REQUESTS`` busiest requests (the rest together as ``OTHERS``).  A record per callback
would cost ~100 MB on a 100,000-request run; and since a loop busy for ten minutes fills
600,000 buckets of 1 ms, the width doubles after every ``LEVEL_GROUPS`` buckets stored.
Outside a recording run the loop runs its own ``_run_once`` untouched.

Measured on the ``qt`` and ``asyncio`` kinds; ``qasync`` runs each callback from its own Qt
timer, not through ``_run_once``, so it is not measured (``LoopActivity.not_measured`` says so).
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import time
from array import array
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .collector import current_request

BUCKET_NS = 1_000_000  # 1 ms: fine enough for a pixel of a one-second run, coarse enough to stay small
SERVER = 0  # owner: the loop ran no request's code (protocol callbacks, heartbeat, ticker)
QT = -1  # owner: Qt's event dispatch and the window, between asyncio iterations (``qt`` kind)
OTHERS = -2  # owner: the requests of a bucket beyond its TOP_REQUESTS busiest, together
TOP_REQUESTS = 3  # requests named per bucket: at 50 in flight a bucket would otherwise name them all
LEVEL_GROUPS = 10_000  # stored buckets per width; then the width doubles
QASYNC = "not measured on the qasync loop (it runs each callback from a Qt timer of its own)"

_ARRAYS = ("buckets", "sizes", "owners", "busy_ns")
_clock = time.perf_counter_ns
_thread_time = time.thread_time_ns


@dataclass
class LoopActivity:
    """The loop thread's busy time per bucket, by owner: plain ints and arrays of them, so that a run file
    can carry it.  Group ``g`` is the bucket from ``buckets[g]`` (ns) to the end of its
    ``width_of(g)``-wide slot; its ``sizes[g]`` entries follow each other in ``owners``/``busy_ns``
    in the order the owners first ran in that bucket.  An owner is a server request id (> 0),
    ``SERVER`` (0), ``QT`` (-1) or ``OTHERS`` (-2: the requests beyond the ``TOP_REQUESTS`` busiest
    of that bucket, together).  Buckets where the loop only waited are not stored.

    Bounded however long a run is: buckets start ``bucket_ns`` wide, and after every
    ``LEVEL_GROUPS`` stored buckets the width doubles (``width_from[i]`` is the first group of
    width ``widths[i]``), so a long run is measured more coarsely, never by more groups than
    ``LEVEL_GROUPS`` per doubling."""

    kind: str = ""
    bucket_ns: int = BUCKET_NS  # the first (finest) width
    since_ns: int | None = None  # the first measured moment (the first loop iteration of the run)
    until_ns: int | None = None  # the last (recording stopped)
    not_measured: str = ""  # why nothing was measured, e.g. on the qasync kind
    # Arrays of 64-bit ints, not lists: a 100,000-request run stores ~600,000 entries, ~40 bytes
    # each as Python ints in a list, 8 here.  Given lists (a run file's), they are made arrays.
    buckets: array[int] = field(default_factory=lambda: array("q"))
    sizes: array[int] = field(default_factory=lambda: array("q"))
    owners: array[int] = field(default_factory=lambda: array("q"))
    busy_ns: array[int] = field(default_factory=lambda: array("q"))
    widths: list[int] = field(default_factory=list)
    width_from: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in _ARRAYS:
            value = getattr(self, name)
            if not isinstance(value, array):
                setattr(self, name, array("q", value))  # OverflowError beyond 64 bits

    @property
    def measured(self) -> bool:
        return not self.not_measured and self.since_ns is not None

    def width_of(self, group: int) -> int:
        """The width of group ``group``'s slot (ns)."""
        i = bisect.bisect_right(self.width_from, group) - 1
        return self.widths[i] if i >= 0 else self.bucket_ns

    def end_of(self, group: int) -> int:
        """Where group ``group``'s slot ends (ns)."""
        width = self.width_of(group)
        return (self.buckets[group] // width + 1) * width

    def read(self, group: int = 0, entry: int = 0) -> tuple[list[tuple[int, list[tuple[int, int]]]], int, int]:
        """The groups from group ``group`` on (whose first entry is ``entry``), as (bucket start ns,
        [(owner, busy ns), ...]), and where the next read starts: (groups, group, entry)."""
        sizes = self.sizes[group:]  # taken first: the lists only grow, and entries come before sizes
        buckets = self.buckets[group : group + len(sizes)]
        owners, busy = self.owners, self.busy_ns
        out = []
        for start, size in zip(buckets, sizes):
            out.append((start, list(zip(owners[entry : entry + size], busy[entry : entry + size]))))
            entry += size
        return out, group + len(sizes), entry


class LoopMeter:
    """Times one loop's callbacks while ``on``.  Built on the loop's thread (``attach``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, kind: str) -> None:
        self.loop = loop
        self.kind = kind
        self.activity = LoopActivity(kind=kind)
        self.on = False
        self.begun = False  # the first timed iteration has started
        self.generation = 0  # counts start()s
        self.mark: int | None = None  # when the piece of time being timed began; None: inside an iteration
        self.cur: dict[int, int] = defaultdict(int)  # the current bucket: owner -> busy ns
        self.width = BUCKET_NS  # the current buckets' width
        self.bucket = 0  # the current bucket's start, ns
        self.bucket_end = 0  # its end, ns
        # The qt kind: between two asyncio iterations Qt either waits (idle) or works (its event
        # dispatch, the window's painting and slots); the thread's CPU time over the gap is that work.
        self.qt = hasattr(loop, "_qt_running")
        self.cpu_mark = 0  # the thread's CPU time when the last iteration ended

    @property
    def supported(self) -> bool:
        return hasattr(self.loop, "_run_once") and not _is_qasync(self.loop)

    def new_activity(self) -> LoopActivity:
        """A fresh activity for a new run (what was measured before is dropped)."""
        self.activity = LoopActivity(kind=self.kind, not_measured="" if self.supported else QASYNC)
        return self.activity

    def start(self) -> None:
        """Time the loop from its next iteration on (called on the loop's thread, maybe mid-iteration)."""
        if self.on or not self.supported:
            return
        self.on = True
        self.begun = False
        self.generation += 1  # an iteration timed for an earlier run must not charge this one
        self.mark = None
        self.cur = defaultdict(int)
        loop = self.loop
        loop._run_once = self._timed_run_once  # type: ignore[attr-defined]  # an instance attribute hides the method

    def stop(self) -> None:
        """Stop timing: what ran up to now is charged to the server, the last bucket flushed."""
        if not self.on:
            return
        now = _clock()
        if self.mark is not None:
            self.charge(SERVER, self.mark, now)
        self._flush()
        self.activity.until_ns = now if self.activity.since_ns is not None else None
        self.on = False
        self.mark = None
        self.loop.__dict__.pop("_run_once", None)

    # -- accounting -----------------------------------------------------------------------

    def _flush(self) -> None:
        cur = self.cur
        a = self.activity
        if cur and a.width_from:
            if len(cur) > TOP_REQUESTS + 2:
                cur = _top_requests(cur)
            a.owners.extend(cur)
            a.busy_ns.extend(cur.values())
            a.buckets.append(self.bucket)  # after the entries: a reader taking sizes first sees them whole
            a.sizes.append(len(cur))
            self.cur = defaultdict(int)
            if len(a.sizes) - a.width_from[-1] >= LEVEL_GROUPS:  # a long run: coarser from here on
                a.widths.append(self.width * 2)
                a.width_from.append(len(a.sizes))
                self.width *= 2

    def _open(self, t: int) -> None:
        """Start the bucket that holds ``t`` (never before the end of the last one)."""
        width = self.width
        self.bucket = max(t // width * width, self.bucket_end)
        self.bucket_end = (t // width + 1) * width

    def charge(self, owner: int, t0: int, t1: int) -> None:
        """Add ``t1 - t0`` of busy time to ``owner``, split over the buckets it spans (the slow path)."""
        if not self.on or not self.begun or t1 <= t0:
            return
        while t0 < t1:
            if t0 >= self.bucket_end:
                self._flush()
                self._open(t0)
            piece_end = min(t1, self.bucket_end)
            cur = self.cur
            cur[owner] += piece_end - t0
            t0 = piece_end

    def _begin(self, now: int) -> None:
        self.begun = True
        a = self.activity
        if a.since_ns is None:
            a.since_ns = now
            self.width = a.bucket_ns
            a.widths, a.width_from = [self.width], [0]
            self.bucket_end = 0
            self._open(now)

    # -- the loop's iteration, timed -----------------------------------------------------------

    def _timed_run_once(self) -> None:
        """CPython's ``BaseEventLoop._run_once`` (3.12-3.14) with every callback timed.

        Before the first callback: the selector's wait is idle (the ``qt`` kind's selector only
        polls; Qt has waited), the rest is the server's; each callback is charged to its owner
        with one clock read.  Since the previous iteration: on the ``qt`` kind Qt's work, as much
        as the thread's CPU time grew (placed just before this iteration: where in the gap it
        ran is not measured), the rest of the gap Qt's wait; on the others the server's."""
        loop: Any = self.loop
        generation = self.generation
        now = _clock()
        if not self.begun:
            self._begin(now)
        elif self.mark is not None:
            if self.qt:
                worked = _thread_time() - self.cpu_mark
                self.charge(QT, max(self.mark, now - worked), now)
            else:
                self.charge(SERVER, self.mark, now)
        self.mark = None  # Qt's signals from a nested event loop inside a callback must not charge
        mark = now
        scheduled = loop._scheduled
        sched_count = len(scheduled)
        if sched_count > _MIN_SCHEDULED and loop._timer_cancelled_count / sched_count > _MIN_CANCELLED_FRACTION:
            kept = []
            for handle in scheduled:
                if handle._cancelled:
                    handle._scheduled = False
                else:
                    kept.append(handle)
            heapq.heapify(kept)
            loop._scheduled = scheduled = kept
            loop._timer_cancelled_count = 0
        else:
            while scheduled and scheduled[0]._cancelled:
                loop._timer_cancelled_count -= 1
                handle = heapq.heappop(scheduled)
                handle._scheduled = False
        timeout = None
        if loop._ready or loop._stopping:
            timeout = 0
        elif scheduled:
            timeout = min(max(0, scheduled[0]._when - loop.time()), _MAX_SELECT_TIMEOUT)
        if timeout != 0:
            now = _clock()
            self.charge(SERVER, mark, now)
            event_list = loop._selector.select(timeout)
            mark = _clock()  # the wait was idle
        else:
            event_list = loop._selector.select(timeout)
        loop._process_events(event_list)
        event_list = None
        end_time = loop.time() + loop._clock_resolution
        ready = loop._ready
        while scheduled:
            handle = scheduled[0]
            if handle._when >= end_time:
                break
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
            ready.append(handle)
        now = _clock()
        self.charge(SERVER, mark, now)  # polling, processing events, moving due timers
        mark = now
        var = current_request
        cur, bucket_end = self.cur, self.bucket_end
        debug = loop._debug
        try:
            for _ in range(len(ready)):
                handle = loop._ready.popleft()
                if handle._cancelled:
                    continue
                context = handle._context
                before = context.get(var)
                try:
                    if debug:
                        _run_debug(loop, handle)
                    else:
                        handle._run()
                finally:
                    now = _clock()
                    # Whose callback: the request it ran for, or the one it began (its
                    # first step sets the variable; its last resets it, so look before).
                    owner = before or context.get(var)
                    oid = owner.id if owner is not None else SERVER
                    if now < bucket_end:
                        cur[oid] += now - mark
                    elif self.generation == generation:  # not restarted by a callback since
                        self.charge(oid, mark, now)
                        cur, bucket_end = self.cur, self.bucket_end
                    mark = now
            handle = None
        finally:
            if self.on and self.generation == generation:
                self.mark = mark
                if self.qt:
                    self.cpu_mark = _thread_time()


def _top_requests(cur: dict[int, int]) -> dict[int, int]:
    """A bucket's entries with only its TOP_REQUESTS busiest requests named, the rest as OTHERS
    (in the order they first ran, OTHERS where the first of them ran)."""
    requests = [(ns, owner) for owner, ns in cur.items() if owner > 0]
    requests.sort(reverse=True)
    named = {owner for _ns, owner in requests[:TOP_REQUESTS]}
    out: dict[int, int] = {}
    for owner, ns in cur.items():
        if owner <= 0 or owner in named:
            out[owner] = out.get(owner, 0) + ns
        else:
            out[OTHERS] = out.get(OTHERS, 0) + ns
    return out


def _run_debug(loop: Any, handle: asyncio.Handle) -> None:
    """What ``_run_once`` does for a callback in debug mode: warn about a slow one."""
    try:
        loop._current_handle = handle
        t0 = loop.time()
        handle._run()
        dt = loop.time() - t0
        if dt >= loop.slow_callback_duration:
            asyncio.log.logger.warning("Executing %s took %.3f seconds", asyncio.base_events._format_handle(handle), dt)
    finally:
        loop._current_handle = None


_MIN_SCHEDULED = asyncio.base_events._MIN_SCHEDULED_TIMER_HANDLES
_MIN_CANCELLED_FRACTION = asyncio.base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION
_MAX_SELECT_TIMEOUT = asyncio.base_events.MAXIMUM_SELECT_TIMEOUT


def _is_qasync(loop: asyncio.AbstractEventLoop) -> bool:
    return any(cls.__module__.startswith("qasync") for cls in type(loop).__mro__)


def attach(collector: Any, loop: asyncio.AbstractEventLoop) -> LoopMeter:
    """Meter ``loop`` (the one the server runs on; call on its thread) for ``collector``'s runs:
    from now on each recording run with tracing enabled is timed.  Replaces an earlier loop's meter."""
    old = collector.loop_meter
    if old is not None and old.loop is loop:
        return old
    if old is not None:
        old.stop()
    meter = LoopMeter(loop, _kind_of(loop))
    collector.loop_meter = meter
    collector.loop_activity = meter.new_activity()
    if collector.recording and collector.enabled:
        meter.start()
    return meter


def detach(collector: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Stop metering ``loop`` (its server stopped); the last run's activity stays with its record."""
    meter = collector.loop_meter
    if meter is not None and meter.loop is loop:
        meter.stop()
        collector.loop_meter = None


def _kind_of(loop: asyncio.AbstractEventLoop) -> str:
    if _is_qasync(loop):
        return "qasync"
    return "qt" if hasattr(loop, "_qt_running") else "asyncio"
