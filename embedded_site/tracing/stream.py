"""Stream a child server's measurements back to the lab, as JSON lines over a loopback socket.

When the site is served by another server in a child process (daphne, gunicorn, ...), its
collector records exactly as in the lab's own process; this thread sends each finished
request (with its spans), each lag sample, each loop stall and each thread's name to the
address in ``EXPLORER_TRACE_SINK`` (``127.0.0.1:PORT``), every ~50 ms.  ``perf_counter_ns``
is the system's monotonic clock, so the child's times line up with the lab's as they are.
A request is sent once it has returned and a short grace has passed (Django's
request_finished runs after the response, in a thread, and its spans come late).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from typing import Any

from .collector import TraceCollector, now_ns

SINK_ENV = "EXPLORER_TRACE_SINK"
PERIOD_S = 0.05
GRACE_NS = 100_000_000


def _line(kind: str, pid: int, body: dict[str, Any]) -> bytes:
    return (json.dumps({"kind": kind, "pid": pid, **body}, separators=(",", ":")) + "\n").encode()


class TraceStreamer:
    """Sends what ``collector`` records to the lab until the process exits."""

    def __init__(self, collector: TraceCollector, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.collector = collector
        self.address = (host or "127.0.0.1", int(port))
        self.pid = os.getpid()
        self._pending: list[Any] = []
        self._seen_requests = 0
        self._seen_lag = 0
        self._seen_stalls = 0
        self._names: dict[int, str] = {}
        self._extra: list[bytes] = []  # lines queued by other threads, sent first
        self._sock = socket.create_connection(self.address, timeout=10)
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._loop, name="explorer-trace-stream", daemon=True)

    def start(self) -> None:
        """Say hello (the lab counts its workers by these) and start sending."""
        self._send([_line("hello", self.pid, {})])
        self._thread.start()

    def announce_loop(self, thread_id: int) -> None:
        """Name the event loop's thread (an ASGI worker, once its loop runs)."""
        self._extra.append(_line("loop", self.pid, {"loop_thread_id": thread_id}))

    def _send(self, lines: list[bytes]) -> None:
        if lines:
            self._sock.sendall(b"".join(lines))

    def _loop(self) -> None:
        while True:
            time.sleep(PERIOD_S)
            try:
                self._send(self.collect())
            except OSError:
                return  # the lab went away: nothing is listening any more

    def collect(self) -> list[bytes]:
        """The lines for everything recorded since the last call (requests once settled)."""
        c, lines = self.collector, []
        while self._extra:
            lines.append(self._extra.pop(0))
        for thread_id, name in list(c.thread_names.items()):
            if self._names.get(thread_id) != name:
                self._names[thread_id] = name
                lines.append(_line("thread", self.pid, {"id": thread_id, "name": name}))
        requests = c.requests
        self._pending.extend(requests[self._seen_requests :])
        self._seen_requests = len(requests)
        settled_before = now_ns() - GRACE_NS
        keep = []
        for request in self._pending:
            if request.returned_ns is not None and request.returned_ns < settled_before:
                lines.append(_line("request", self.pid, dataclasses.asdict(request)))
            else:
                keep.append(request)
        self._pending = keep
        lag = c.lag
        for sample in lag[self._seen_lag :]:
            lines.append(_line("lag", self.pid, {"t_ns": sample.t_ns, "lag_ns": sample.lag_ns}))
        self._seen_lag = len(lag)
        stalls = c.stalls
        for stall in stalls[self._seen_stalls :]:
            lines.append(_line("stall", self.pid, dataclasses.asdict(stall)))
        self._seen_stalls = len(stalls)
        return lines


def start_streaming(collector: TraceCollector) -> TraceStreamer | None:
    """Stream to the lab if this process was started by it (``EXPLORER_TRACE_SINK`` set)."""
    address = os.environ.get(SINK_ENV)
    if not address:
        return None
    streamer = TraceStreamer(collector, address)
    streamer.start()
    return streamer
