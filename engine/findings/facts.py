"""What every finding reads, computed once per record in one pass over its requests.

Rules must stay cheap on a 100,000-request record, so the spans are sorted into kinds
here once, and each rule works on the lists it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from embedded_site.tracing.spans import AWAIT, HOP_WAIT, NEW_THREAD, SQL, VIEW, ServerRequest, Span

from ..phases import BLOCKED_THRESHOLD_NS
from ..record import ClientRequest, RunRecord
from .measure import Interval, Overlap, clip, fmt_s, subtract, total, union

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
    spans: dict[str, list[Span]]  # by kind
    span_request: dict[str, list[ServerRequest]]  # the request of each span, same order
    view_active: list[Interval]  # view spans with their hop waits cut out: a view doing its work
    several_sql: list[tuple[list[Span], list[Span]]]  # (SQL spans, hop waits) of requests with 2+ queries
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
    def new_thread_waits(self) -> list[Span]:
        """Hop waits that included starting the thread (asgiref's executor for the request)."""
        return [s for s in self.spans.get(HOP_WAIT, ()) if s.name.endswith(NEW_THREAD)]

    @cached_property
    def views(self) -> Overlap:
        """How the views doing their work overlapped (hop waits cut out)."""
        return Overlap(self.view_active)

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


def gather(record: RunRecord) -> Facts:
    clients = [c for c in list(record.client) if c.done_ns is not None and c.sent_ns is not None]
    server = [s for s in list(record.server) if s.end_ns is not None]
    if clients:
        begin = min(c.intended_ns for c in clients)
        end = max(c.done_ns for c in clients)  # type: ignore[type-var]
    else:
        begin = record.started_ns
        end = record.finished_ns or begin
    spans: dict[str, list[Span]] = {}
    owners: dict[str, list[ServerRequest]] = {SQL: [], AWAIT: []}
    view_active: list[Interval] = []
    several_sql: list[tuple[list[Span], list[Span]]] = []
    get = spans.get
    for request in server:
        views = waits = sqls = None
        for span in request.spans:
            kind = span.kind
            same = get(kind)
            if same is None:
                same = spans[kind] = []
            same.append(span)
            if kind == VIEW:
                views = views or []
                views.append(span)
            elif kind == HOP_WAIT:
                waits = waits or []
                waits.append(span)
            elif kind == SQL:
                owners[SQL].append(request)
                sqls = sqls or []
                sqls.append(span)
            elif kind == AWAIT:
                owners[AWAIT].append(request)
        if views:
            if waits:
                holes = sorted([(w.start_ns, w.end_ns) for w in waits])
                for view in views:
                    view_active.extend(subtract((view.start_ns, view.end_ns), holes))
            else:
                view_active.extend([(view.start_ns, view.end_ns) for view in views])
        if sqls and len(sqls) >= 2:
            several_sql.append((sqls, waits or []))
    late = [(s.t_ns - s.lag_ns, s.t_ns) for s in list(record.lag) if s.lag_ns >= BLOCKED_THRESHOLD_NS]
    return Facts(
        record=record,
        stats=None,
        clients=clients,
        server=server,
        by_client=record.server_by_client_id(),
        begin_ns=begin,
        end_ns=end,
        spans=spans,
        span_request=owners,
        view_active=view_active,
        several_sql=several_sql,
        blocked=clip(union(late), begin, end),
        stopped_clients=[c for c in clients if c.error == STOPPED],
        timed_out_clients=[c for c in clients if c.error is not None and c.error.startswith(TIMED_OUT)],
    )
