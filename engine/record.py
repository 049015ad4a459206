"""The run record: everything one run measured, client side and server side, in plain dataclasses.

It is the model every view renders (timeline, stats, exports) and it is live: while a
run is going the driver and the server's collector keep appending to its lists, and a
reader may look at them at any time.  ``finished_ns`` is set when the run is over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_site.tracing.loop_activity import LoopActivity
from embedded_site.tracing.spans import LagSample, ServerRequest, Span

from .config import RunConfig

__all__ = ["ClientRequest", "LagSample", "LoopActivity", "PastRun", "RunRecord", "ServerRequest", "Span"]

_MAX_SHARED = 10_000
_shared_texts: dict[str, str] = {}


def _shared(text: str) -> str:
    """One copy of a text many records repeat (bounded: beyond the limit each keeps its own)."""
    kept = _shared_texts.get(text)
    if kept is None:
        if len(_shared_texts) >= _MAX_SHARED or not isinstance(text, str):
            return text
        kept = _shared_texts.setdefault(text, text)
    return kept


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

    def __post_init__(self) -> None:
        # Every request of a stream repeats its demo id and URL; keep one copy of each.
        self.demo = _shared(self.demo)
        self.url = _shared(self.url)

    @property
    def finished(self) -> bool:
        return self.done_ns is not None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400

    @property
    def latency_ns(self) -> int | None:
        return None if self.done_ns is None else self.done_ns - self.intended_ns


@dataclass(frozen=True)
class PastRun:
    """Where a record read back from disk came from (``engine.runfile``): a run measured
    earlier, not now.  ``kind`` is ``"file"``, ``"history"`` or ``"trace"``; a record read
    from a Chrome trace holds only what the trace held and ``missing`` says what it lacks.
    ``saved_stats`` are the stats (and findings) as computed when the run was saved: the
    window recomputes them from the measurements, these say what that version concluded."""

    kind: str
    source: str  # the file's path, or "history #12"
    format_version: int = 0
    saved_stats: dict[str, Any] | None = None
    missing: tuple[str, ...] = ()
    app_version: str = ""

    @property
    def from_trace(self) -> bool:
        return self.kind == "trace"


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
    # What the loop's thread did, busy (by whose code) or idle; None when it was not metered.
    loop_activity: LoopActivity | None = None
    finished_ns: int | None = None
    stopped: bool = False  # the user pressed Stop: the record is partial but valid
    # Why the run ended before its plan did, when that was not the user's choice (e.g. the
    # load driver died); None for a run that did what it was asked or was stopped.
    incomplete: str | None = None
    interrupted: bool = False  # a SIGINT/SIGTERM ended the run (``stopped`` is set too)
    notes: list[str] = field(default_factory=list)
    # The site's database: {"vendor": "sqlite"|"postgresql", "pool": bool, "conn_max_age": ...,
    # "max_connections": ..., "server_version": ...}; and for PostgreSQL the client backends
    # connected to it during the run, sampled from pg_stat_activity: (perf_counter_ns, count),
    # with the samples that could not be taken as (perf_counter_ns, why).
    database: dict[str, Any] = field(default_factory=dict)
    connections: list[tuple[int, int]] = field(default_factory=list)
    connection_errors: list[tuple[int, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Set on a record read back from a run file, the history or a trace; None for a run
    # measured in this process.  Not part of what a run file stores about the run.
    past: PastRun | None = field(default=None, compare=False)
    _thread_labels: dict[int, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _stats_cache: tuple[Any, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.finished_ns is not None

    def server_by_client_id(self) -> dict[int, ServerRequest]:
        return {s.client_id: s for s in list(self.server) if s.client_id is not None}

    def thread_label(self, thread_id: int) -> str:
        """Say what a thread is for, not only its name: asgiref gives each request's
        thread-sensitive context a one-thread ``ThreadPoolExecutor``; ``asyncio_N`` are the
        loop's default pool, used by ``sync_to_async(thread_sensitive=False)``.  Each kind
        is numbered from 1 in this run, in order of first use (the names' own numbers
        count for the whole process, and OS thread ids are reused)."""
        if thread_id == self.loop_thread_id:
            return "event loop (main thread)"
        label = self.thread_labels().get(thread_id)
        return label if label is not None else f"thread {thread_id}"

    def thread_labels(self) -> dict[int, str]:
        """Every thread's label but the loop's (``thread_label``), made once per new thread seen."""
        labels = self._thread_labels
        if len(labels) != len(self.thread_names):
            labels = self._thread_labels = _label_threads(self.thread_names)
        return labels

    def final_stats(self) -> Any:
        """The run's ``RunStats``, computed once when the run is over (every export and the
        summary share it); a live record is computed afresh each time."""
        from .stats import compute

        if not self.finished:
            return compute(self)
        key = (self.finished_ns, len(self.client), len(self.server), len(self.lag))
        cached = self._stats_cache
        if cached is None or cached[0] != key:
            cached = self._stats_cache = (key, compute(self))
        return cached[1]


def _label_threads(names: dict[int, str]) -> dict[int, str]:
    kinds = {"ThreadPoolExecutor-": "request thread", "asyncio_": "thread pool"}
    counts = dict.fromkeys(kinds.values(), 0)
    labels = {}
    for thread_id, name in list(names.items()):
        kind = next((label for prefix, label in kinds.items() if name.startswith(prefix)), None)
        if kind is None:
            labels[thread_id] = name
        else:
            counts[kind] += 1
            labels[thread_id] = f"{kind} #{counts[kind]}"
    return labels
