"""What the server records about each request: plain dataclasses, no Django, no Qt.

Every timestamp is ``time.perf_counter_ns()`` taken in this process, the same clock the
load driver uses, so client and server times line up without any conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Span kinds, in the order the timeline stacks them.  A span's kind says what the
# request was doing; its thread says where.
MIDDLEWARE = "middleware"
VIEW = "view"
SQL = "sql"
TEMPLATE = "template"
AWAIT = "await"
HOP_WAIT = "hop-wait"  # a sync_to_async call waiting for its thread (queue + thread start)
HOP_RUN = "hop-run"  # the sync function running in that thread
BLOCKING = "blocking"  # a blocking call such as time.sleep: harmless on a sync thread, a stall on the loop
CPU = "cpu"
# Appended to a hop-wait's name when the wait included starting the worker thread.
NEW_THREAD = ", starting a new thread"
# Ends the name of the span a demo records over N timed sync_to_async calls ("2000 sync_to_async
# round trips"): the crossing-cost finding reads N from it.
ROUND_TRIPS = " sync_to_async round trips"
SPAN_KINDS = (MIDDLEWARE, VIEW, SQL, TEMPLATE, AWAIT, HOP_WAIT, HOP_RUN, BLOCKING, CPU)


@dataclass(slots=True)
class Span:
    kind: str
    name: str
    start_ns: int
    end_ns: int
    thread_id: int
    error: str | None = None

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


@dataclass(slots=True)
class ServerRequest:
    """One HTTP request as the ASGI server saw it, with the spans recorded inside it."""

    id: int
    client_id: int | None
    method: str
    path: str
    query: str
    arrival_ns: int
    thread_id: int  # the loop thread that received it
    response_start_ns: int | None = None
    end_ns: int | None = None
    status: int | None = None
    bytes_sent: int = 0
    exception_type: str | None = None
    exception: str | None = None
    disconnected: bool = False
    cancelled: bool = False
    spans: list[Span] = field(default_factory=list)
    traceback: str | None = None  # of ``exception``, bounded (see errors.traceback_text)
    parent_id: int | None = None  # an upstream call one of our views made: the id of that view's request
    chunks_ns: list[int] | None = None  # a streamed response: when each body chunk but the last was sent
    returned_ns: int | None = None  # when the application returned: no span is added after this

    @property
    def done(self) -> bool:
        return self.end_ns is not None


@dataclass(slots=True)
class LagSample:
    """The event loop woke ``lag_ns`` late at ``t_ns`` (heartbeat sleeping ``period_ns``)."""

    t_ns: int
    lag_ns: int
