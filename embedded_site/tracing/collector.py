"""The one place server-side measurements land while the site runs.

Recording code on any thread appends to plain lists (an append is atomic under the GIL),
so readers such as the live timeline can look at ``requests`` and ``lag`` while a run is
going without locks.  The request a piece of code belongs to travels in a context
variable, which asgiref copies into every ``sync_to_async`` thread, so an SQL query run
on a worker thread still knows its request.

Nothing is kept while no run records: ``serve`` may answer requests for days, and each
one kept would be memory never given back.

Threads are identified per run, not by their OS ident: the OS reuses the ident of a thread
that has ended, so a run that starts a thread per request would otherwise see thousands
of threads as a hundred.  A thread gets the next small number (from 1, in order of first
use) the first time it records something in a run; the number lives in a thread-local,
which a new thread never inherits even when it is given an old one's ident.
"""

from __future__ import annotations

import contextvars
import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .spans import LagSample, PackedSpans, ServerRequest, Span, pack

now_ns = time.perf_counter_ns

current_request: contextvars.ContextVar[ServerRequest | None] = contextvars.ContextVar(
    "explorer_current_request", default=None
)

# Texts repeated by every request (paths, SQL, span names) are kept once per run, up to
# this many distinct ones: beyond it (a client inventing paths) each request keeps its own.
MAX_SHARED_STRINGS = 10_000


class TraceCollector:
    def __init__(self) -> None:
        self.enabled = True
        # Requests and lag samples are kept only while a run is being recorded, so an idle
        # window or a long ``serve`` does not grow memory forever.
        self.recording = False
        self.recording_since_ns = 0
        self.recording_until_ns: int | None = None
        self.requests: list[ServerRequest] = []
        self.lag: list[LagSample] = []
        self.stalls: list = []  # watchdog.Stall: what held the loop while it was late
        self.thread_names: dict[int, str] = {}  # per-run thread id -> thread name
        self._next_id = 0
        self._id_lock = threading.Lock()
        self._run = object()  # identity of the current run: a thread's id is valid for it alone
        self._next_thread = 0
        self._thread_lock = threading.Lock()
        self._local = threading.local()  # .entry: (run, thread id) of the calling thread
        self._loop_ident: int | None = None  # OS ident of the event loop's thread (alive all along)
        self._loop_name = ""
        self._loop_thread_id: int | None = None
        self._strings: dict[str, str] = {}
        self.swept = False  # a garbage sweep froze objects during this recording
        # Packing (``pack_returned``): the request list last packed, how far, and the requests
        # before that point whose application had not returned yet.
        self._packed_requests: list[ServerRequest] | None = None
        self._packed_upto = 0
        self._unreturned: list[ServerRequest] = []
        # What the loop's thread did, busy or idle and for whom (``loop_activity``): the meter of
        # the loop the server runs on, on while a run records with tracing enabled.
        self.loop_meter: Any = None
        self.loop_activity: Any = None  # loop_activity.LoopActivity of the current run

    def reset(self) -> None:
        """Start a fresh recording (a new run): earlier requests, lag and thread ids are
        dropped; the event loop's thread is thread 1 of the new run."""
        with self._thread_lock:
            self.requests = []
            self.lag = []
            self.stalls = []
            if self.loop_meter is not None:
                self.loop_activity = self.loop_meter.new_activity()
            self._strings = {}
            self._run = object()
            self.thread_names = {}
            self._next_thread = 0
            if self._loop_ident is not None:
                self._next_thread = self._loop_thread_id = 1
                self.thread_names[1] = self._loop_name

    def start_recording(self) -> None:
        self.recording_since_ns = now_ns()
        self.recording_until_ns = None
        self.recording = True
        if self.enabled and self.loop_meter is not None:
            self.loop_meter.start()

    def stop_recording(self) -> None:
        self.recording_until_ns = now_ns()
        self.recording = False
        if self.loop_meter is not None:
            self.loop_meter.stop()
        self.pack_returned()
        # The run's garbage sweeps (``garbage``) froze the garbage of the requests then in
        # flight, ~10 % of a long run's; free it now, before the exports need the memory.
        if self.swept:
            self.swept = False
            gc.unfreeze()
            gc.collect()

    def pack_returned(self) -> int:
        """Pack the spans of the requests whose application has returned since the last call
        (``spans.PackedSpans``: half their memory); how many were packed.

        Called in batches between requests (the garbage sweep, the end of a recording), not as
        each request ends.  A cancelled request is never packed: a thread it abandoned (its
        query still running) may add a span to it at any time."""
        requests = self.requests
        if requests is not self._packed_requests:  # a new run
            self._packed_requests, self._packed_upto, self._unreturned = requests, 0, []
        count = len(requests)
        waiting: list[ServerRequest] = []
        packed = 0
        for request in [*self._unreturned, *requests[self._packed_upto : count]]:
            if request.returned_ns is None:
                waiting.append(request)
            elif not request.cancelled and not isinstance(request.spans, PackedSpans):
                request.spans = pack(request.spans)
                packed += 1
        self._packed_upto, self._unreturned = count, waiting
        return packed

    def take_thread_names(self) -> dict[int, str]:
        """The run's thread names, handed over whole (no copy: a run that started a thread per
        request has 100,000 of them); a thread first seen after this goes into a fresh table,
        so the one handed over no longer changes."""
        with self._thread_lock:
            names, self.thread_names = self.thread_names, {}
            return names

    def new_request_id(self) -> int:
        with self._id_lock:
            self._next_id += 1
            return self._next_id

    @property
    def loop_thread_id(self) -> int | None:
        """The event loop thread's id in the current run."""
        return self._loop_thread_id

    @loop_thread_id.setter
    def loop_thread_id(self, thread_id: int | None) -> None:
        # Set from the loop thread itself (``collector.loop_thread_id = collector.note_thread()``):
        # that thread keeps the first number of every later run.
        self._loop_ident = threading.get_ident() if thread_id is not None else None
        self._loop_name = threading.current_thread().name
        self._loop_thread_id = thread_id

    def note_thread(self, fresh: bool = False) -> int:
        """The calling thread's id in this run, given (and its name remembered) at first sight.

        ``fresh`` (asgiref says the thread was just started) needs no special handling: a
        new thread has no thread-local entry yet, whatever ident the OS gave it."""
        entry = getattr(self._local, "entry", None)
        if entry is not None and entry[0] is self._run:
            return entry[1]
        return self._first_sight()

    def _first_sight(self) -> int:
        with self._thread_lock:
            if self._loop_ident == threading.get_ident() and self._loop_thread_id is not None:
                thread_id = self._loop_thread_id
            else:
                self._next_thread += 1
                thread_id = self._next_thread
                self.thread_names[thread_id] = threading.current_thread().name
            self._local.entry = (self._run, thread_id)
        return thread_id

    def shared(self, text: str) -> str:
        """One copy of a text that many requests repeat (a path, an SQL statement)."""
        strings = self._strings
        kept = strings.get(text)
        if kept is None:
            if len(strings) >= MAX_SHARED_STRINGS:
                return text
            kept = strings.setdefault(text, text)
        return kept

    def add_span(
        self,
        kind: str,
        name: str,
        start_ns: int,
        end_ns: int,
        error: str | None = None,
        thread_id: int | None = None,
    ) -> None:
        request = current_request.get()
        if request is None or not self.enabled:
            return
        if thread_id is None:
            thread_id = self.note_thread()
        request.spans.append(Span(kind, name, start_ns, end_ns, thread_id, error))

    @contextmanager
    def span(self, kind: str, name: str) -> Iterator[None]:
        """Record the enclosed block as one span of the current request."""
        start = now_ns()
        error = None
        try:
            yield
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            self.add_span(kind, name, start, now_ns(), error)


collector = TraceCollector()
