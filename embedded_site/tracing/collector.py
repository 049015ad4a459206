"""The one place server-side measurements land while the site runs.

Recording code on any thread appends to plain lists (an append is atomic under the GIL),
so readers such as the live timeline can look at ``requests`` and ``lag`` while a run is
going without locks.  The request a piece of code belongs to travels in a context
variable, which asgiref copies into every ``sync_to_async`` thread, so an SQL query run
on a worker thread still knows its request.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .spans import LagSample, ServerRequest, Span

now_ns = time.perf_counter_ns

current_request: contextvars.ContextVar[ServerRequest | None] = contextvars.ContextVar(
    "explorer_current_request", default=None
)


class TraceCollector:
    def __init__(self) -> None:
        self.enabled = True
        # Lag samples are kept only while a run is being recorded, so an idle window
        # does not grow memory forever.
        self.recording = False
        self.recording_since_ns = 0
        self.recording_until_ns: int | None = None
        self.requests: list[ServerRequest] = []
        self.lag: list[LagSample] = []
        self.stalls: list = []  # watchdog.Stall: what held the loop while it was late
        self.thread_names: dict[int, str] = {}
        self.loop_thread_id: int | None = None
        self._next_id = 0
        self._id_lock = threading.Lock()

    def reset(self) -> None:
        """Start a fresh recording (a new run): earlier requests and lag are dropped."""
        self.requests = []
        self.lag = []
        self.stalls = []

    def start_recording(self) -> None:
        self.recording_since_ns = now_ns()
        self.recording_until_ns = None
        self.recording = True

    def stop_recording(self) -> None:
        self.recording_until_ns = now_ns()
        self.recording = False

    def new_request_id(self) -> int:
        with self._id_lock:
            self._next_id += 1
            return self._next_id

    def note_thread(self, fresh: bool = False) -> int:
        """Remember the current thread's name; return its id.  ``fresh``: a new thread that
        may have been given the ident of one that has ended, so its name replaces that one's."""
        ident = threading.get_ident()
        if fresh or ident not in self.thread_names:
            self.thread_names[ident] = threading.current_thread().name
        return ident

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
