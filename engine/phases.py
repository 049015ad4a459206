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


def _server_phases(server: ServerRequest, end_fallback: int) -> list[Phase]:
    end = server.end_ns or end_fallback
    phases = [Phase(FRAMEWORK, server.arrival_ns, end, server.thread_id, f"{server.method} {server.path}")]
    if server.response_start_ns is not None and server.response_start_ns < end:
        phases.append(Phase(RESPONSE, server.response_start_ns, end, server.thread_id))
    for span in list(server.spans):
        phase = SPAN_PHASE.get(span.kind)
        if phase is not None:
            phases.append(Phase(phase, span.start_ns, span.end_ns, span.thread_id, span.name))
    return phases


def bar_for(client: ClientRequest, server: ServerRequest | None, now_ns: int) -> RequestBar:
    end = client.done_ns or now_ns
    bar = RequestBar(
        client.id,
        client.demo,
        server.path if server else client.url,
        client.intended_ns,
        end,
        client.status,
        client.error,
        server.exception_type if server else None,
        in_flight=client.done_ns is None,
    )
    sent = client.sent_ns or end
    if sent > client.intended_ns:
        bar.phases.append(Phase(CLIENT_QUEUE, client.intended_ns, sent))
    bar.phases.append(Phase(NETWORK, sent, end))
    if server is not None:
        bar.phases.extend(_server_phases(server, end))
    bar.phases.sort(key=lambda p: PHASES.index(p.phase))
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
    bar.phases = sorted(_server_phases(server, end), key=lambda p: PHASES.index(p.phase))
    return bar


def request_bars(record: RunRecord, now_ns: int) -> list[RequestBar]:
    """Every request of the run as a bar, rows packed so that overlap shows as height."""
    by_client = record.server_by_client_id()
    bars = [bar_for(c, by_client.get(c.id), now_ns) for c in list(record.client)]
    bars.extend(server_only_bar(s, now_ns) for s in list(record.server) if s.client_id is None)
    bars.sort(key=lambda b: b.start_ns)
    pack_rows(bars)
    return bars


def pack_rows(bars: list[RequestBar]) -> int:
    """Give each bar (sorted by start) the lowest free row; return the number of rows."""
    free_rows: list[int] = []
    busy: list[tuple[int, int]] = []  # (end_ns, row)
    rows = 0
    for bar in bars:
        while busy and busy[0][0] <= bar.start_ns:
            heapq.heappush(free_rows, heapq.heappop(busy)[1])
        if free_rows:
            bar.row = heapq.heappop(free_rows)
        else:
            bar.row = rows
            rows += 1
        heapq.heappush(busy, (bar.end_ns, bar.row))
    return rows


def thread_lanes(record: RunRecord) -> list[ThreadLane]:
    """One lane per server thread that ran a span: the loop thread first, then by first use."""
    lanes: dict[int, ThreadLane] = {}
    for server in list(record.server):
        for span in list(server.spans):
            phase = SPAN_PHASE.get(span.kind)
            if phase is None or phase == HOP_WAIT and span.thread_id != record.loop_thread_id:
                continue
            lane = lanes.get(span.thread_id)
            if lane is None:
                lane = lanes[span.thread_id] = ThreadLane(span.thread_id, record.thread_label(span.thread_id))
            lane.spans.append(Phase(phase, span.start_ns, span.end_ns, span.thread_id, span.name))
    ordered = sorted(
        lanes.values(),
        key=lambda lane: (lane.thread_id != record.loop_thread_id, min((s.start_ns for s in lane.spans), default=0)),
    )
    for lane in ordered:
        lane.spans.sort(key=lambda p: (PHASES.index(p.phase), p.start_ns))
    return ordered


def blocked_regions(record: RunRecord, threshold_ns: int = 20_000_000) -> list[tuple[int, int]]:
    """Intervals in which the event loop could not run: each late heartbeat was blocked
    from (wake time - lag) to its wake time."""
    return [(s.t_ns - s.lag_ns, s.t_ns) for s in list(record.lag) if s.lag_ns >= threshold_ns]
