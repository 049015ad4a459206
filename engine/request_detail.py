"""One request of a run, opened up: its timings, its spans nested, its SQL, its exception.

The window's details pane only renders what this returns, so what it says about a request
is derived once, here, from the record (the model every view renders), and can be tested
without a widget.  Times are in milliseconds from the moment the request was due to be
sent (``intended_ns``), or from its arrival for a request no client of the run sent.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from embedded_site.tracing import spans as k

from .phases import FRAMEWORK, SPAN_PHASE
from .record import ClientRequest, RunRecord, ServerRequest

# When two spans cover the same interval, the one that encloses the other by construction
# comes first: the middleware chain holds the hop to the view's thread, which runs the view,
# which runs the SQL or template.
_NESTING = {
    k.MIDDLEWARE: 0,
    k.HOP_WAIT: 1,
    k.HOP_RUN: 2,
    k.VIEW: 3,
    k.TEMPLATE: 4,
    k.AWAIT: 5,
    k.BLOCKING: 6,
    k.CPU: 7,
    k.SQL: 8,
}


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    ms: float
    help: str


@dataclass(slots=True)
class SpanNode:
    """A server span and the spans that ran inside it (by time, on any thread)."""

    kind: str  # the span kind as recorded (embedded_site.tracing.spans)
    phase: str  # the timeline phase it is drawn as (its colour)
    name: str
    start_ms: float
    duration_ms: float
    thread: str
    error: str | None = None
    children: list[SpanNode] = field(default_factory=list)
    start_ns: int = 0
    end_ns: int = 0
    thread_id: int | None = None

    def walk(self) -> list[SpanNode]:
        """This node and every node under it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(frozen=True, slots=True)
class SqlStatement:
    statement: str
    start_ms: float
    duration_ms: float
    thread: str


@dataclass(slots=True)
class RequestDetail:
    """Everything the run measured about one request, as plain values."""

    client_id: int | None
    server_id: int | None
    title: str  # "request #12" or "server-only request"
    method: str
    path: str
    query: str
    status: int | None
    bytes: int
    in_flight: bool
    error: str | None  # the client's error (timeout, connection reset), if any
    exception_type: str | None
    exception: str | None
    traceback: str | None
    cancelled: bool
    disconnected: bool
    timings: list[Timing]
    spans: list[SpanNode]  # roots: the server request itself, its spans nested under it
    sql: list[SqlStatement]
    threads: list[str]  # every thread the request's server side ran on, in order of first use

    @property
    def outcome(self) -> str:
        """The request's end in a few words."""
        if self.in_flight:
            return "in flight"
        if self.error:
            return self.error
        text = f"HTTP {self.status}" if self.status is not None else "no response"
        if self.exception_type:
            text += f", {self.exception_type} raised"
        if self.cancelled:
            text += ", cancelled by Django (the client went away)"
        return text


RequestKey = tuple[int | None, int | None]  # (client id, server id): a client id when there is one


_arrival = attrgetter("arrival_ns")


def _owns(server: ServerRequest, thread_id: int, start_ns: int, end_ns: int) -> bool:
    return any(
        span.thread_id == thread_id and span.start_ns == start_ns and span.end_ns == end_ns
        for span in list(server.spans)
    )


def key_for_span(record: RunRecord, thread_id: int, start_ns: int, end_ns: int) -> RequestKey | None:
    """The request a span drawn in a thread lane belongs to (spans carry no request id).

    The server appends requests as they arrive, so the owner is found by looking back from
    the last one that arrived before the span started (a click on a 100,000-request run
    stays quick); then everything else, so none is missed."""
    servers = list(record.server)
    before = bisect.bisect_right(servers, start_ns, key=_arrival)
    for i in chain(range(before - 1, -1, -1), range(before, len(servers))):
        if _owns(servers[i], thread_id, start_ns, end_ns):
            return servers[i].client_id, servers[i].id
    return None


def _find_server(record: RunRecord, client: ClientRequest) -> ServerRequest | None:
    """The server side of a client's request: it arrived after the request was sent."""
    servers = list(record.server)
    sent = client.sent_ns if client.sent_ns is not None else client.intended_ns
    after = bisect.bisect_left(servers, sent, key=_arrival)
    for i in chain(range(after, len(servers)), range(after)):
        if servers[i].client_id == client.id:
            return servers[i]
    return None


def _find_client(record: RunRecord, client_id: int) -> ClientRequest | None:
    clients = list(record.client)
    for guess in (client_id, client_id - 1):  # the driver numbers its requests in order
        if 0 <= guess < len(clients) and clients[guess].id == client_id:
            return clients[guess]
    return next((c for c in clients if c.id == client_id), None)


def key_for_server_only(record: RunRecord, arrival_ns: int, path: str) -> RequestKey | None:
    """A request no client of the run sent (a fan-out's upstream call), by its arrival."""
    for server in list(record.server):
        if server.client_id is None and server.arrival_ns == arrival_ns and server.path == path:
            return None, server.id
    return None


def request_detail(record: RunRecord, client_id: int | None, server_id: int | None = None) -> RequestDetail | None:
    """The detail of one request, by its client id (or, for a server-only one, its server id);
    None if the record has no such request."""
    client: ClientRequest | None = None
    server: ServerRequest | None = None
    if client_id is not None:
        client = _find_client(record, client_id)
        if client is None:
            return None
        server = _find_server(record, client)
    elif server_id is not None:
        server = next((s for s in list(record.server) if s.id == server_id), None)
        if server is None:
            return None
    else:
        return None
    origin = client.intended_ns if client is not None else server.arrival_ns  # type: ignore[union-attr]

    def ms(ns: int) -> float:
        return (ns - origin) / 1e6

    spans, sql, threads = _server_side(record, server, ms)
    return RequestDetail(
        client_id=client.id if client else None,
        server_id=server.id if server else None,
        title=f"request #{client.id}" if client else "server-only request",
        method=server.method if server else "GET",
        path=server.path if server else (client.url if client else ""),
        query=server.query if server else "",
        status=client.status if client else server.status if server else None,
        bytes=client.bytes if client else server.bytes_sent if server else 0,
        in_flight=(client.done_ns is None) if client else (server is not None and server.end_ns is None),
        error=client.error if client else None,
        exception_type=server.exception_type if server else None,
        exception=server.exception if server else None,
        traceback=server.traceback if server else None,
        cancelled=bool(server and server.cancelled),
        disconnected=bool(server and server.disconnected),
        timings=_timings(client, server),
        spans=spans,
        sql=sql,
        threads=threads,
    )


def _timings(client: ClientRequest | None, server: ServerRequest | None) -> list[Timing]:
    out: list[Timing] = []

    def add(label: str, a: int | None, b: int | None, help_text: str) -> None:
        if a is not None and b is not None:
            out.append(Timing(label, (b - a) / 1e6, help_text))

    if client is not None:
        if client.sent_ns is not None and client.sent_ns > client.intended_ns:
            add("client queue", client.intended_ns, client.sent_ns, "due, but every client connection was busy")
        add("total (client)", client.intended_ns, client.done_ns, "from when it was due to the last byte received")
        add("time to first byte", client.sent_ns, client.first_byte_ns, "sent to the first response byte")
    if server is not None:
        if client is not None:
            add("sent → server", client.sent_ns, server.arrival_ns, "socket accept and HTTP parsing")
        add("server total", server.arrival_ns, server.end_ns, "arrival to the last body byte handed to the server")
        add("server → response start", server.arrival_ns, server.response_start_ns, "until the headers were sent")
        if client is not None:
            add("response → client done", server.end_ns, client.done_ns, "the last bytes reaching the client")
    return out


def _server_side(
    record: RunRecord, server: ServerRequest | None, ms: Callable[[int], float]
) -> tuple[list[SpanNode], list[SqlStatement], list[str]]:
    if server is None:
        return [], [], []
    label = record.thread_label
    spans = sorted(list(server.spans), key=lambda s: (s.start_ns, -s.end_ns, _NESTING.get(s.kind, 9)))
    # The root covers every span: some run after the last body byte (closing the response).
    end = max([server.end_ns or server.arrival_ns, *(s.end_ns for s in spans)])
    root = SpanNode(
        "request",
        FRAMEWORK,
        f"{server.method} {server.path}" + (f"?{server.query}" if server.query else ""),
        ms(server.arrival_ns),
        (end - server.arrival_ns) / 1e6,
        label(server.thread_id),
        server.exception_type,
        start_ns=server.arrival_ns,
        end_ns=end,
        thread_id=server.thread_id,
    )
    stack = [root]
    for span in spans:
        node = SpanNode(
            span.kind,
            SPAN_PHASE.get(span.kind, span.kind),
            span.name,
            ms(span.start_ns),
            span.duration_ns / 1e6,
            label(span.thread_id),
            span.error,
            start_ns=span.start_ns,
            end_ns=span.end_ns,
            thread_id=span.thread_id,
        )
        while len(stack) > 1 and not (stack[-1].start_ns <= span.start_ns and span.end_ns <= stack[-1].end_ns):
            stack.pop()
        stack[-1].children.append(node)
        stack.append(node)
    sql = [
        SqlStatement(s.name, ms(s.start_ns), s.duration_ns / 1e6, label(s.thread_id)) for s in spans if s.kind == k.SQL
    ]
    threads = list(dict.fromkeys([label(server.thread_id), *(label(s.thread_id) for s in spans)]))
    return [root], sql, threads
