"""Name what held the event loop: a watchdog thread that samples the loop thread's stack
while the loop is late.

The heartbeat can say *that* the loop was blocked for a second, only after the fact, and
never *by what*.  This module keeps a tiny ticker on the loop (a ``call_later`` chain that
stamps the time it ran) and a daemon thread that compares that stamp with the clock.  While
the loop is on time the thread sleeps until the ticker would be ``LATE_NS`` overdue (about one
wake per ``LATE_NS``: each wake takes the GIL from the loop's thread); once the loop is that
late it reads the loop thread's frame with
``sys._current_frames()`` every ``SAMPLE_S`` and counts where it was.  When the ticker runs
again the stall is over and one ``Stall`` (its interval and the places it was seen) is
appended to ``collector.stalls``.  Nothing runs faster than every ``IDLE_S`` while no run
is being recorded, so an idle window and the throughput benchmark pay nothing for it.
"""

from __future__ import annotations

import asyncio
import linecache
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from .collector import TraceCollector, now_ns

TICK_S = 0.005  # the ticker's period while recording
IDLE_S = 0.1  # ticker and watchdog period while nothing is recorded
SAMPLE_S = 0.005  # how often a late loop's stack is read
LATE_NS = 20_000_000  # later than this, the loop counts as blocked (as the heartbeat's threshold)
PROJECT = str(Path(__file__).resolve().parent.parent) + "/"  # .../embedded_site/
ROOT = str(Path(PROJECT).parent) + "/"  # the repository: engine/ and main.py
# Where a loop thread that is not running anyone's code sits: its own wait for events.
IDLE_FRAMES = {("selectors.py", "select"), ("qtloop.py", "run_forever"), ("qasync/__init__.py", "run_forever")}
# Code the person wrote (the playground compiles it as playground/<name>.py, a view file
# mounted from the terminal keeps its own path): it is theirs, so a culprit names it.
USER_CODE = "playground/"
USER_CODE_FILES: set[str] = set()
WAITING = "waiting in the event loop's own poll"
# Where it sits between two callbacks, running its own iteration (polling, timers, and on a
# traced run the loop meter's accounting): the loop's work, not a request's.
LOOP_FRAMES = {("asyncio/base_events.py", "_run_once"), ("tracing/loop_activity.py", "_timed_run_once")}
BETWEEN = "running the event loop's own iteration between callbacks"
# Directories whose frames are "the site's code" for a culprit: the demo site, and the
# project the lab serves instead of it (``add_source_root``).
SOURCE_ROOTS: list[str] = [PROJECT]
_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")


@dataclass(slots=True)
class Stall:
    """The loop was late from ``start_ns`` (when its ticker was due) to ``end_ns``;
    ``places`` counts the samples seen at each place (see ``place``), most seen first."""

    start_ns: int
    end_ns: int
    samples: int
    places: list[tuple[str, int]] = field(default_factory=list)

    @property
    def culprit(self) -> str | None:
        return self.places[0][0] if self.places else None

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def add_source_root(directory: Path) -> None:
    """Count frames under ``directory`` (a served project's folder) as the site's own code."""
    root = str(Path(directory).resolve()) + "/"
    if root not in SOURCE_ROOTS:
        SOURCE_ROOTS.append(root)


def _is_site_code(filename: str) -> bool:
    return filename.startswith(tuple(SOURCE_ROOTS)) and "/tracing/" not in filename and "-packages/" not in filename


def _short(filename: str) -> str:
    """A path as a reader recognises it: relative to embedded_site/ (or the served project's
    folder) or to site-packages."""
    for root in SOURCE_ROOTS:
        if filename.startswith(root) and "-packages/" not in filename:
            return filename[len(root) :]
    if filename.startswith(ROOT) and "/.venv/" not in filename:
        return filename[len(ROOT) :]
    for marker in ("site-packages/", "/lib/python"):
        at = filename.rfind(marker)
        if at >= 0:
            rest = filename[at + len(marker) :]
            return rest.split("/", 1)[1] if marker == "/lib/python" and "/" in rest else rest
    return filename


def _called_on(frame: FrameType) -> str | None:
    """The first call on the frame's current line (``time.sleep`` for ``time.sleep(delay)``):
    a C function such as time.sleep has no frame of its own, its caller's line names it."""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno or 0).strip()
    if line.startswith(("with ", "async with ")):
        return None
    match = _CALL.search(line.split("#", 1)[0])
    return match.group(1) if match else None


def place(frame: FrameType | None) -> str:
    """Where a stack was, in one line: what ran innermost, then the first project frame
    ("time.sleep, demos/views/basics.py:91 in blocking_sleep")."""
    if frame is None:
        return "unknown"
    innermost = frame
    code = frame.f_code
    if any(code.co_filename.endswith(f) and code.co_name == n for f, n in IDLE_FRAMES):
        return f"{WAITING} ({code.co_qualname}, {_short(code.co_filename)}:{frame.f_lineno})"
    if any(code.co_filename.endswith(f) and code.co_name == n for f, n in LOOP_FRAMES):
        return f"{BETWEEN} ({code.co_qualname}, {_short(code.co_filename)}:{frame.f_lineno})"
    site = None
    outside = None  # the first frame outside the standard library, when no project frame comes
    f: FrameType | None = frame
    while f is not None:
        filename = f.f_code.co_filename
        if _is_site_code(filename) or filename.startswith(USER_CODE) or filename in USER_CODE_FILES:
            site = f
            break
        if outside is None and "site-packages/" in filename:
            outside = f
        f = f.f_back
    site = site or outside
    here = f"{_short(site.f_code.co_filename)}:{site.f_lineno} in {site.f_code.co_name}" if site else None
    if site is innermost:
        called = _called_on(innermost)
        return f"{called}, {here}" if called else here  # type: ignore[return-value]
    code = innermost.f_code
    what = f"{code.co_qualname} ({_short(code.co_filename)}:{innermost.f_lineno})"
    return f"{what}, {here}" if here else what


class Watchdog:
    """One ticker on the loop, one sampling thread; ``stop()`` ends both."""

    def __init__(self, collector: TraceCollector, loop: asyncio.AbstractEventLoop, thread_id: int) -> None:
        self.collector = collector
        self.loop = loop
        self.thread_id = thread_id
        self.due_ns = now_ns() + int(IDLE_S * 1e9)  # when the ticker should next run
        self.ticked_ns = now_ns()
        self._handle: asyncio.TimerHandle | None = None
        # Held until ``stop()``: the watch thread sleeps by trying to take it (a C-level timed
        # wait, much cheaper than ``Event.wait``'s condition), and wakes at once on stop.
        self._running = threading.Lock()
        self._running.acquire()
        self._stopped = False
        self._thread = threading.Thread(target=self._watch, name="explorer-watchdog", daemon=True)

    def start(self) -> None:
        self._tick()
        self._thread.start()

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._running.release()
        if self._handle is not None:
            self._handle.cancel()

    def _tick(self) -> None:
        period = TICK_S if self.collector.recording else IDLE_S
        now = now_ns()
        self.ticked_ns = now
        self.due_ns = now + int(period * 1e9)
        self._handle = self.loop.call_later(period, self._tick)

    def _sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until ``stop()``; True if stopped."""
        if self._running.acquire(timeout=seconds):
            self._running.release()  # stays free: every later sleep returns at once
            return True
        return self._stopped

    def _watch(self) -> None:
        """Sleep until the ticker would be ``LATE_NS`` overdue (a ticker that ran meanwhile
        moved the deadline: sleep again), then sample the loop's stack until it runs.  A loop
        on time wakes this thread about once per ``LATE_NS``, not once per ``SAMPLE_S``: each
        wake takes the GIL from the loop's thread."""
        frames = sys._current_frames
        pause = IDLE_S
        while not self._sleep(pause):
            if not self.collector.recording:
                pause = IDLE_S
                continue
            due = self.due_ns
            overdue = now_ns() - due
            if overdue < LATE_NS:
                pause = min(IDLE_S, max(SAMPLE_S, (LATE_NS - overdue) / 1e9))
                continue
            pause = SAMPLE_S
            if not self.loop.is_running():
                # Another loop is serving the run (a test session can hold two labs on one
                # thread): this loop's ticker is idle, not late.
                continue
            places: Counter[str] = Counter()
            samples = 0
            while self.ticked_ns < due and not self._stopped and self.loop.is_running():
                frame = frames().get(self.thread_id)
                try:
                    where = place(frame)
                except Exception as exc:  # a frame caught mid-change must not end the watchdog
                    where = f"unknown ({type(exc).__name__})"
                places[where] += 1
                del frame
                samples += 1
                self._sleep(SAMPLE_S)
            end = self.ticked_ns if self.ticked_ns >= due else now_ns()
            # A ticker due before this recording began (the loop was not running between two
            # runs) was late only from the recording's start.
            start = max(due, self.collector.recording_since_ns)
            self.collector.stalls.append(Stall(start, max(start, end), samples, places.most_common(8)))


def start_watchdog(collector: TraceCollector, beside: asyncio.Future | None = None) -> Watchdog:
    """Watch the running loop (call it on the loop's thread) until ``stop()``, or until the
    task ``beside`` (the heartbeat) ends."""
    watchdog = Watchdog(collector, asyncio.get_running_loop(), threading.get_ident())
    watchdog.start()
    if beside is not None:
        beside.add_done_callback(lambda _: watchdog.stop())
    return watchdog
