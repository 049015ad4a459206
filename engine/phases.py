"""From a run record to what the timeline draws: one bar per request split into phases,
and one lane per server thread.

A request's phases are layered: the bar's base is the whole request as the client saw it,
then the server's part of it, the view, and the detail spans inside (SQL, template,
await, thread hops).  Drawing them in ``PHASES`` order, later over earlier, shows the
innermost thing the request was doing at each moment.  The same derivation feeds the
window and the trace export, so the two always agree.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from operator import attrgetter

from embedded_site.tracing import spans as k

from .record import ClientRequest, RunRecord, ServerRequest

CLIENT_QUEUE = "client queue"
NETWORK = "network"  # sent by the client, not yet seen by the server (accept + parse)
FRAMEWORK = "django"  # in the server, outside the view: routing, middleware, signals
RESPONSE = "response"  # response started, body still being sent
HOP_WAIT = "thread hop wait"
HOP_RUN = "sync thread"
VIEW = "view"
SQL = "SQL"
TEMPLATE = "template"
AWAIT = "await"
BLOCKING = "blocking call"
CPU = "CPU"
FAILED = "failed"

# Drawing order: later phases are drawn over earlier ones.
PHASES = (CLIENT_QUEUE, NETWORK, FRAMEWORK, RESPONSE, VIEW, HOP_RUN, HOP_WAIT, AWAIT, BLOCKING, CPU, TEMPLATE, SQL)

SPAN_PHASE = {
    k.VIEW: VIEW,
    k.SQL: SQL,
    k.TEMPLATE: TEMPLATE,
    k.AWAIT: AWAIT,
    k.HOP_WAIT: HOP_WAIT,
    k.HOP_RUN: HOP_RUN,
    k.BLOCKING: BLOCKING,
    k.CPU: CPU,
}

PHASE_HELP = {
    CLIENT_QUEUE: "due to be sent, but every client connection was busy (open loop only)",
    NETWORK: "sent by the client, not yet handed to Django (socket accept, HTTP parsing)",
    FRAMEWORK: "inside Django but outside the view: routing, middleware, signals",
    RESPONSE: "response headers sent, body still streaming",
    VIEW: "the view function running (or suspended in an await)",
    HOP_RUN: "sync code running in a worker thread via sync_to_async",
    HOP_WAIT: "a sync_to_async call waiting for its thread (pool queue, thread start)",
    AWAIT: "awaiting: the loop is free to run other requests",
    BLOCKING: "a blocking call such as time.sleep: on the loop thread it stalls everything",
    CPU: "pure-Python CPU work",
    TEMPLATE: "a Django template rendering",
    SQL: "an SQL query running",
}


@dataclass(slots=True)
class Phase:
    phase: str
    start_ns: int
    end_ns: int
    thread_id: int | None = None
    detail: str = ""


@dataclass(slots=True)
class RequestBar:
    client_id: int | None
    demo: str
    path: str
    start_ns: int
    end_ns: int
    status: int | None
    error: str | None
    exception_type: str | None
    phases: list[Phase] = field(default_factory=list)
    row: int = 0
    in_flight: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 500)


@dataclass(slots=True)
class ThreadLane:
    thread_id: int
    label: str
    spans: list[Phase] = field(default_factory=list)


_RANK = {phase: i for i, phase in enumerate(PHASES)}
_rank_of = _RANK.__getitem__


def _phase_rank(p: Phase) -> int:
    return _RANK[p.phase]


def _server_phases(server: ServerRequest, end_fallback: int) -> list[Phase]:
    end = server.end_ns or end_fallback
    tid = server.thread_id
    phases = [Phase(FRAMEWORK, server.arrival_ns, end, tid, f"{server.method} {server.path}")]
    if server.response_start_ns is not None and server.response_start_ns < end:
        phases.append(Phase(RESPONSE, server.response_start_ns, end, tid))
    phases.extend(_span_phases(server))
    return phases


def _span_phases(server: ServerRequest) -> list[Phase]:
    """The server's spans as phases, stably sorted by drawing order (every span phase draws
    after the request-level ones, so this is the tail of a bar's sorted phases)."""
    get = SPAN_PHASE.get
    out = []
    last, ordered = -1, True
    for span in list(server.spans):
        phase = get(span.kind)
        if phase is not None:
            out.append(Phase(phase, span.start_ns, span.end_ns, span.thread_id, span.name))
            rank = _RANK[phase]
            if rank < last:
                ordered = False
            last = rank
    if not ordered:
        out.sort(key=_phase_rank)
    return out


def bar_for(client: ClientRequest, server: ServerRequest | None, now_ns: int) -> RequestBar:
    end = client.done_ns or now_ns
    intended = client.intended_ns
    bar = RequestBar(
        client.id,
        client.demo,
        server.path if server else client.url,
        intended,
        end,
        client.status,
        client.error,
        server.exception_type if server else None,
        in_flight=client.done_ns is None,
    )
    sent = client.sent_ns or end
    # Built directly in PHASES order: client queue, network, django, response, then the spans.
    if sent > intended:
        phases = [Phase(CLIENT_QUEUE, intended, sent), Phase(NETWORK, sent, end)]
    else:
        phases = [Phase(NETWORK, sent, end)]
    if server is not None:
        s_end = server.end_ns or end
        tid = server.thread_id
        phases.append(Phase(FRAMEWORK, server.arrival_ns, s_end, tid, f"{server.method} {server.path}"))
        if server.response_start_ns is not None and server.response_start_ns < s_end:
            phases.append(Phase(RESPONSE, server.response_start_ns, s_end, tid))
        phases.extend(_span_phases(server))
    bar.phases = phases
    return bar


def server_only_bar(server: ServerRequest, now_ns: int) -> RequestBar:
    """A request no client of the run sent (e.g. the upstream calls of a fan-out demo)."""
    end = server.end_ns or now_ns
    bar = RequestBar(
        None,
        "",
        server.path,
        server.arrival_ns,
        end,
        server.status,
        None,
        server.exception_type,
        in_flight=server.end_ns is None,
    )
    bar.phases = _server_phases(server, end)  # already in PHASES order
    return bar


def request_bars(record: RunRecord, now_ns: int) -> list[RequestBar]:
    """Every request of the run as a bar, rows packed so that overlap shows as height."""
    by_client = record.server_by_client_id()
    get = by_client.get
    bars = [bar_for(c, get(c.id), now_ns) for c in list(record.client)]
    bars.extend(server_only_bar(s, now_ns) for s in list(record.server) if s.client_id is None)
    bars.sort(key=_start_of)
    pack_rows(bars)
    return bars


_start_of = attrgetter("start_ns")


def pack_rows(bars: list[RequestBar]) -> int:
    """Give each bar (sorted by start) the lowest free row; return the number of rows."""
    free_rows: list[int] = []
    busy: list[tuple[int, int]] = []  # (end_ns, row)
    push, pop = heapq.heappush, heapq.heappop
    rows = 0
    for bar in bars:
        start = bar.start_ns
        while busy and busy[0][0] <= start:
            push(free_rows, pop(busy)[1])
        if free_rows:
            row = bar.row = pop(free_rows)
        else:
            row = bar.row = rows
            rows += 1
        push(busy, (bar.end_ns, row))
    return rows


def thread_lanes(record: RunRecord) -> list[ThreadLane]:
    """One lane per server thread that ran a span: the loop thread first, then by first use."""
    builder = LaneBuilder(record)
    builder.add(list(record.server))
    return builder.lanes()


class LaneBuilder:
    """``thread_lanes`` in steps: ``add`` the record's server requests in order, in as many
    slices as wanted, then ``lanes()`` (so a window can build them between frames)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        # Per thread: its spans grouped by phase, and its earliest start; dicts keep first use.
        self._by_thread: dict[int, dict[str, list[Phase]]] = {}
        self._first: dict[int, int] = {}

    def add(self, servers: list[ServerRequest]) -> None:
        loop_tid = self.record.loop_thread_id
        get = SPAN_PHASE.get
        by_thread, first = self._by_thread, self._first
        for server in servers:
            for span in list(server.spans):
                phase = get(span.kind)
                if phase is None:
                    continue
                tid = span.thread_id
                if phase == HOP_WAIT and tid != loop_tid:
                    continue
                groups = by_thread.get(tid)
                if groups is None:
                    groups = by_thread[tid] = {}
                    first[tid] = span.start_ns
                elif span.start_ns < first[tid]:
                    first[tid] = span.start_ns
                group = groups.get(phase)
                if group is None:
                    group = groups[phase] = []
                group.append(Phase(phase, span.start_ns, span.end_ns, tid, span.name))

    def lanes(self) -> list[ThreadLane]:
        loop_tid, first = self.record.loop_thread_id, self._first
        lanes = []
        for tid in sorted(self._by_thread, key=lambda t: (t != loop_tid, first[t])):
            groups = self._by_thread[tid]
            spans: list[Phase] = []
            for phase in sorted(groups, key=_rank_of):  # drawing order, then by start
                group = groups[phase]
                group.sort(key=_start_of)
                spans.extend(group)
            lanes.append(ThreadLane(tid, self.record.thread_label(tid), spans))
        return lanes


def blocked_regions(record: RunRecord, threshold_ns: int = 20_000_000) -> list[tuple[int, int]]:
    """Intervals in which the event loop could not run: each late heartbeat was blocked
    from (wake time - lag) to its wake time."""
    return [(s.t_ns - s.lag_ns, s.t_ns) for s in list(record.lag) if s.lag_ns >= threshold_ns]
