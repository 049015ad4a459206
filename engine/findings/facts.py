"""What every finding reads, computed once per record in one pass over its requests.

Rules must stay cheap on a 100,000-request record, so the spans are sorted into kinds
here once, and each rule works on the lists it needs.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from embedded_site.tracing.spans import (
    AWAIT,
    HOP_RUN,
    HOP_WAIT,
    MIDDLEWARE,
    NEW_THREAD,
    SQL,
    VIEW,
    PackedSpans,
    ServerRequest,
    Span,
    pack_rows,
    span_rows,
)

from ..phases import BLOCKED_THRESHOLD_NS
from ..record import ClientRequest, RunRecord
from .measure import Interval, Overlap, clip, fmt_s, subtract, total, union

POOL = "(thread pool)"  # ends a hop's name when it ran on a thread pool, not the request's thread
STOPPED = "stopped before it finished"  # engine.clientproc.CANCELLED, the client's word for Stop
TIMED_OUT = "client gave up after"


@dataclass
class Facts:
    record: RunRecord
    stats: Any  # engine.stats.RunStats, filled before the rules run
    clients: list[ClientRequest]  # finished (sent and answered or failed)
    server: list[ServerRequest]  # ended
    by_client: dict[int, ServerRequest]
    begin_ns: int
    end_ns: int
    # Spans by kind (packed), but for the kinds every request has (middleware, view, thread
    # hops), which are summed up instead (``_walk``): the fields below.
    spans: dict[str, list[Span] | PackedSpans]
    span_request: dict[str, list[ServerRequest]]  # the request of each SQL and await span, same order
    hop_waits: SpanTotals  # every thread hop's wait for its thread
    thread_starts: SpanTotals  # the hop waits that included starting the thread
    view_ns: int  # the view spans' durations added up
    pool_runs: list[Span]  # hops run on a thread pool (sync_to_async(thread_sensitive=False))
    pool_waits: list[Span]  # and their waits
    threads: set[int]  # every thread a span ran on
    # View spans with their hop waits cut out (a view doing its work), as their starts and their
    # ends: two lists of the spans' own numbers, not a tuple per piece (megabytes on a long run).
    view_starts: Any  # array("q") (a list for a foreign file's times beyond 64 bits)
    view_ends: Any
    several_sql: list[tuple[Any, Any]]  # (SQL spans, hop waits) of requests with 2+ queries
    blocked: list[Interval]  # the loop blocked (late heartbeats), merged and clipped to the run
    stopped_clients: list[ClientRequest] = field(default_factory=list)
    timed_out_clients: list[ClientRequest] = field(default_factory=list)

    @property
    def wall_ns(self) -> int:
        return max(1, self.end_ns - self.begin_ns)

    @property
    def loop_thread_id(self) -> int | None:
        return self.record.loop_thread_id

    @property
    def n(self) -> int:
        return len(self.clients)

    @property
    def open_loop(self) -> bool:
        """Most of the run's requests came at a fixed rate, not from waiting users."""
        streams = self.record.config.streams
        opened = sum(s.requests or (s.rate or 0) * (s.duration_s or 0) for s in streams if s.rate)
        closed = sum(s.requests or 0 for s in streams if not s.rate)
        return opened > closed

    @cached_property
    def loop_busy(self) -> Any:
        """``engine.loop_lane.LoopBusy`` over the run (what the loop's thread measurably did), or
        None when the loop was not metered (the qasync kind, tracing off, an older record)."""
        from ..loop_lane import loop_busy

        return loop_busy(self.record, self.begin_ns, self.end_ns)

    @property
    def blocked_ns(self) -> int:
        return total(self.blocked)

    @cached_property
    def server_ns(self) -> int:
        """Time the requests spent inside the server, added up."""
        return sum(s.end_ns - s.arrival_ns for s in self.server)  # type: ignore[operator]

    @cached_property
    def view_share(self) -> float:
        """How much of the time inside the server the views spent doing their work: near 0
        for hello (Django's own work dominates), near 1 for a view that sleeps."""
        return self.views.total / self.server_ns if self.server_ns else 0.0

    @cached_property
    def failed(self) -> list[ClientRequest]:
        """Requests without a good answer (an error, or a status of 400 or more), Stop's included."""
        return [c for c in self.clients if c.error is not None or c.status is None or c.status >= 400]

    @cached_property
    def views(self) -> Overlap:
        """How the views doing their work overlapped (hop waits cut out)."""
        return Overlap(starts=self.view_starts, ends=self.view_ends)

    @cached_property
    def view_cover(self) -> float:
        """The share of the run during which some view was doing its work: the views are what
        the run is about when it is high (a sleeping view), not when it is low (hello)."""
        return self.views.covered / self.wall_ns

    @property
    def lead(self) -> str:
        """How a sentence about the whole run starts: "10 × hello took 0.03 s"."""
        target = self.record.config.target
        demos = {c.demo for c in self.clients} or {target}
        what = f"{self.n} × {target}" if demos == {target} else f"{self.n} requests of {target}"
        return f"{what} took {fmt_s(self.wall_ns / 1e9)}"


@dataclass
class SpanTotals:
    """How many spans of a kind, and their durations added up."""

    count: int = 0
    ns: int = 0


@dataclass
class _Pass:
    """What one pass over every span of a run finds (``_walk``)."""

    spans: dict[str, Any] = field(default_factory=dict)
    owners: dict[str, list[ServerRequest]] = field(default_factory=lambda: {SQL: [], AWAIT: []})
    hop_waits: SpanTotals = field(default_factory=SpanTotals)
    thread_starts: SpanTotals = field(default_factory=SpanTotals)
    view_ns: int = 0
    pool_runs: list[Span] = field(default_factory=list)
    pool_waits: list[Span] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    several_sql: list[tuple[Any, Any]] = field(default_factory=list)


def _walk(server: list[ServerRequest], view_starts: Any, view_ends: Any) -> _Pass:
    """One pass over the requests' spans.  The kinds every request has (middleware, view, thread
    hops: six spans of a hello request) are summed up as they go by, not kept: kept, a
    100,000-request run's would be 600,000 spans more in memory.  Every other kind is kept by
    kind, packed; the views' active pieces and the SQL of requests with several queries too."""
    found = _Pass()
    spans, owners, hop_waits, thread_starts = found.spans, found.owners, found.hop_waits, found.thread_starts
    threads, pool_runs, pool_waits = found.threads, found.pool_runs, found.pool_waits
    get = spans.get
    view_ns = 0
    for request in server:
        views = waits = sqls = None
        # Each span's fields, read straight from a packed request (``spans.span_rows``).
        for row in span_rows(request.spans):
            kind, name, start, end, tid, _error = row
            threads.add(tid)
            if kind == HOP_WAIT:
                waits = waits or []
                waits.append(row)
                hop_waits.count += 1
                hop_waits.ns += end - start
                if name.endswith(NEW_THREAD):
                    thread_starts.count += 1
                    thread_starts.ns += end - start
                if POOL in name:
                    pool_waits.append(Span(*row))
                continue
            if kind == HOP_RUN:
                if name.endswith(POOL):
                    pool_runs.append(Span(*row))
                continue
            if kind == VIEW:
                views = views or []
                views.append((start, end))
                view_ns += end - start
                continue
            if kind == MIDDLEWARE:
                continue
            same = get(kind)
            if same is None:
                same = spans[kind] = PackedSpans()
            try:
                same.append_row(*row)
            except (OverflowError, TypeError):  # does not fit 64 bits: this kind kept as spans
                same = spans[kind] = [*same, Span(*row)]
            if kind == SQL:
                owners[SQL].append(request)
                sqls = sqls or []
                sqls.append(row)
            elif kind == AWAIT:
                owners[AWAIT].append(request)
        if views:
            if waits:
                holes = sorted([(w[2], w[3]) for w in waits])
                for view in views:
                    for piece_start, piece_end in subtract(view, holes):
                        view_starts.append(piece_start)
                        view_ends.append(piece_end)
            else:
                view_starts.extend([view[0] for view in views])
                view_ends.extend([view[1] for view in views])
        if sqls and len(sqls) >= 2:
            # Kept packed, as a packed request's are: a list would hold a Span object per span.
            found.several_sql.append((pack_rows(sqls), pack_rows(waits or [])))
    found.view_ns = view_ns
    return found


def gather(record: RunRecord) -> Facts:
    clients = [c for c in list(record.client) if c.done_ns is not None and c.sent_ns is not None]
    server = [s for s in list(record.server) if s.end_ns is not None]
    if clients:
        begin = min(c.intended_ns for c in clients)
        end = max(c.done_ns for c in clients)  # type: ignore[type-var]
    else:
        begin = record.started_ns
        end = record.finished_ns or begin
    view_starts: Any = array("q")
    view_ends: Any = array("q")
    try:
        found = _walk(server, view_starts, view_ends)
    except OverflowError:  # a time beyond 64 bits (a foreign run file): the same in plain lists
        view_starts, view_ends = [], []
        found = _walk(server, view_starts, view_ends)
    late = [(s.t_ns - s.lag_ns, s.t_ns) for s in list(record.lag) if s.lag_ns >= BLOCKED_THRESHOLD_NS]
    return Facts(
        record=record,
        stats=None,
        clients=clients,
        server=server,
        by_client=record.server_by_client_id(),
        begin_ns=begin,
        end_ns=end,
        spans=found.spans,
        span_request=found.owners,
        hop_waits=found.hop_waits,
        thread_starts=found.thread_starts,
        view_ns=found.view_ns,
        pool_runs=found.pool_runs,
        pool_waits=found.pool_waits,
        threads=found.threads,
        view_starts=view_starts,
        view_ends=view_ends,
        several_sql=found.several_sql,
        blocked=clip(union(late), begin, end),
        stopped_clients=[c for c in clients if c.error == STOPPED],
        timed_out_clients=[c for c in clients if c.error is not None and c.error.startswith(TIMED_OUT)],
    )
