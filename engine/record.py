"""The run record: everything one run measured, client side and server side, in plain dataclasses.

It is the model every view renders (timeline, stats, exports) and it is live: while a
run is going the driver and the server's collector keep appending to its lists, and a
reader may look at them at any time.  ``finished_ns`` is set when the run is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_site.tracing.spans import LagSample, ServerRequest, Span

from .config import RunConfig

__all__ = ["ClientRequest", "LagSample", "RunRecord", "ServerRequest", "Span"]


@dataclass(slots=True)
class ClientRequest:
    """One request as the load driver saw it.  ``intended_ns`` is when it *should* have
    been sent: equal to ``sent_ns`` in a closed loop, the arrival-schedule slot in an open
    loop, so waiting for a free connection counts as latency (no coordinated omission)."""

    id: int
    stream: int
    demo: str
    url: str
    intended_ns: int
    sent_ns: int | None = None
    first_byte_ns: int | None = None
    done_ns: int | None = None
    status: int | None = None
    bytes: int = 0
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.done_ns is not None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400

    @property
    def latency_ns(self) -> int | None:
        return None if self.done_ns is None else self.done_ns - self.intended_ns


@dataclass
class RunRecord:
    config: RunConfig
    versions: dict[str, str]
    loop: str
    url: str
    started_ns: int
    client: list[ClientRequest] = field(default_factory=list)
    server: list[ServerRequest] = field(default_factory=list)
    lag: list[LagSample] = field(default_factory=list)
    stalls: list[Any] = field(default_factory=list)  # embedded_site.tracing.watchdog.Stall, what held the loop
    thread_names: dict[int, str] = field(default_factory=dict)
    loop_thread_id: int | None = None
    finished_ns: int | None = None
    stopped: bool = False  # the user pressed Stop: the record is partial but valid
    # Why the run ended before its plan did, when that was not the user's choice (e.g. the
    # load driver died); None for a run that did what it was asked or was stopped.
    incomplete: str | None = None
    interrupted: bool = False  # a SIGINT/SIGTERM ended the run (``stopped`` is set too)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.finished_ns is not None

    def server_by_client_id(self) -> dict[int, ServerRequest]:
        return {s.client_id: s for s in list(self.server) if s.client_id is not None}

    def thread_label(self, thread_id: int) -> str:
        """Say what a thread is for, not only its name: asgiref gives each request's
        thread-sensitive context a one-thread ``ThreadPoolExecutor``; ``asyncio_N`` are the
        loop's default pool, used by ``sync_to_async(thread_sensitive=False)``."""
        if thread_id == self.loop_thread_id:
            return "event loop (main thread)"
        name = self.thread_names.get(thread_id, f"thread {thread_id}")
        if name.startswith("ThreadPoolExecutor-"):  # ThreadPoolExecutor-34_0: executor 34
            return f"request thread #{name.removeprefix('ThreadPoolExecutor-').split('_')[0]}"
        if name.startswith("asyncio_"):
            return f"thread pool #{name.removeprefix('asyncio_')}"
        return name
