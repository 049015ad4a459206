"""The one phase table: every name, colour, legend line, drawing order and text symbol of
what a request can be doing, and the records the timeline is derived into.

A request's phases are layered: the bar's base is the whole request as the client saw it,
then the server's part of it, the view, and the detail spans inside (SQL, template,
await, thread hops).  Drawing them in ``PHASES`` order, later over earlier, shows the
innermost thing the request was doing at each moment.  The window, the text timeline and
the exports all read this table, so a phase is added (or renamed) in one place; the
derivation itself is ``engine.derive``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from embedded_site.tracing import spans as k

if TYPE_CHECKING:
    from .record import RunRecord

# A heartbeat this late means the event loop could not run: the one threshold for the
# stats, the shading in the window, the text timeline and the exports.
BLOCKED_THRESHOLD_NS = 20_000_000


@dataclass(frozen=True, slots=True)
class PhaseKind:
    """One row of the phase table.  ``span_kind`` is the server span kind it comes from
    (``embedded_site.tracing.spans``), None for the phases made from request timings."""

    name: str
    colour: str
    legend: str
    symbol: str
    span_kind: str | None = None


# In drawing order: later rows are drawn over earlier ones.  The colours are chosen for
# distinguishability: the "waiting" phases are light, the "busy" ones saturated, and the two
# a user must never confuse (await = loop free, blocking = loop stalled) sit at opposite ends.
PHASE_TABLE: tuple[PhaseKind, ...] = (
    PhaseKind("client queue", "#d9d9d9", "due to be sent, but every client connection was busy (open loop only)", ","),
    PhaseKind("network", "#b9c7d6", "sent by the client, not yet handed to Django (socket accept, HTTP parsing)", "."),
    PhaseKind("django", "#8fa8c8", "inside Django but outside the view: routing, middleware, signals", "-"),
    PhaseKind("response", "#5f7fa8", "response headers sent, body still streaming", ">"),
    PhaseKind("view", "#3b6fb6", "the view function running (or suspended in an await)", "=", k.VIEW),
    PhaseKind("sync thread", "#9b6fd0", "sync code running in a worker thread via sync_to_async", "t", k.HOP_RUN),
    PhaseKind(
        "thread hop wait",
        "#f2c14e",
        "a sync_to_async call waiting for its thread (pool queue, thread start)",
        "h",
        k.HOP_WAIT,
    ),
    PhaseKind("await", "#5cbf72", "awaiting: the loop is free to run other requests", "~", k.AWAIT),
    PhaseKind(
        "blocking in a thread",
        "#b0a18f",
        "a blocking call such as time.sleep on a worker thread: that thread waits, the loop does not",
        "z",
    ),
    PhaseKind(
        "blocking the loop",
        "#e4572e",
        "a blocking call such as time.sleep on the event loop's thread: everything stalls",
        "#",
        k.BLOCKING,
    ),
    PhaseKind("CPU", "#c2185b", "pure-Python CPU work", "C", k.CPU),
    PhaseKind("template", "#17a2b8", "a Django template rendering", "T", k.TEMPLATE),
    PhaseKind("SQL", "#8d5524", "an SQL query running", "S", k.SQL),
    PhaseKind(
        "loop overhead",
        "#8c8c8c",
        "the event loop ran the server's own callbacks, no request's code (uvicorn's protocol, the heartbeat, timers)",
        "o",
    ),
    PhaseKind("Qt / window", "#3d5a5a", "the loop's thread ran Qt's event dispatch and the window", "q"),
    PhaseKind(
        "other requests",
        "#7d97c4",
        "the event loop ran the code of several requests, each less than the busiest named there",
        "r",
    ),
    PhaseKind("first byte", "#1b3a66", "the client received the first byte of the response", "|"),
)
PHASE_KINDS = {p.name: p for p in PHASE_TABLE}

(
    CLIENT_QUEUE,
    NETWORK,
    FRAMEWORK,
    RESPONSE,
    VIEW,
    HOP_RUN,
    HOP_WAIT,
    AWAIT,
    THREAD_BLOCKING,
    BLOCKING,
    CPU,
    TEMPLATE,
    SQL,
    LOOP_OVERHEAD,
    QT_WORK,
    OTHER_REQUESTS,
    FIRST_BYTE,
) = (p.name for p in PHASE_TABLE)
FAILED = "failed"  # not a phase: an outline over a failed request's bar
LOOP_BLOCKED = "loop blocked"  # not a phase: the shading where the loop could not run
OUTLIER = "outlier"  # not a phase: the marker beside a request that stands out

# Drawing order (markers such as the first byte are drawn as ticks, not as phases of a bar).
PHASES = tuple(p.name for p in PHASE_TABLE if p.name != FIRST_BYTE)
PHASE_HELP = {p.name: p.legend for p in PHASE_TABLE}
PHASE_COLOUR = {p.name: p.colour for p in PHASE_TABLE}
PHASE_SYMBOL = {p.name: p.symbol for p in PHASE_TABLE}
SPAN_PHASE = {p.span_kind: p.name for p in PHASE_TABLE if p.span_kind is not None}
PHASE_RANK = {name: i for i, name in enumerate(PHASES)}
FAILED_COLOUR = "#d00000"
MARKS = {
    FAILED: (FAILED_COLOUR, "the request failed (error or HTTP 5xx): red outline"),
    LOOP_BLOCKED: (
        "#f3c2b3",
        "shaded behind the bars and hatched over the time axis: the event loop could not run "
        f"(a heartbeat was ≥ {BLOCKED_THRESHOLD_NS // 1_000_000} ms late)",
    ),
    OUTLIER: (
        "#111111",
        "a ring round a request slower than the run's p99 or of a scenario's odd stream, and a marker left of "
        "its row (N jumps to the next)",
    ),
    FIRST_BYTE: (PHASE_COLOUR[FIRST_BYTE], PHASE_HELP[FIRST_BYTE] + " (a tick in the bar)"),
}


# A record's ``loop_thread_id`` when its server has no event loop at all (gunicorn under WSGI):
# no thread is the loop, so a blocking call blocks only its worker thread, and there is no loop
# lane. (None is a record that does not say: an older one, whose spans are read as the loop's.)
NO_LOOP = 0


def span_phase(kind: str, thread_id: int | None, loop_thread_id: int | None) -> str | None:
    """The phase a server span is drawn as: a blocking call is only "blocking the loop" on the
    loop's thread; on a worker thread only that thread waits."""
    phase = SPAN_PHASE.get(kind)
    if phase == BLOCKING and thread_id != loop_thread_id and loop_thread_id is not None:
        return THREAD_BLOCKING
    return phase


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
    server_id: int | None = None
    stream: int | None = None
    first_byte_ns: int | None = None
    chunks_ns: list[int] = field(default_factory=list)  # when each body chunk left the server, if recorded
    children: list[RequestBar] = field(default_factory=list)  # upstream calls this request made
    parent_id: int | None = None  # for an upstream call: the client id of the request that made it
    outlier: str = ""  # why it stands out ("slower than p99", "the odd stream"), or ""

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 500)


@dataclass(slots=True)
class ThreadLane:
    thread_id: int
    label: str
    spans: list[Phase] = field(default_factory=list)


def request_bars(record: RunRecord, now_ns: int) -> list[RequestBar]:
    """Every request of the run as a bar (sorted by start), rows packed so that overlap shows as
    height; an upstream call is also nested in its parent's ``children`` (and has its row)."""
    from .derive import Derivation

    return Derivation.of_record(record, now_ns).bars_by_start()


def thread_lanes(record: RunRecord) -> list[ThreadLane]:
    """One lane per server thread that ran a span: the loop thread first, then by first use."""
    from .derive import LaneBuilder

    builder = LaneBuilder(record)
    builder.add(list(record.server))
    return builder.lanes()


def blocked_regions(record: RunRecord, threshold_ns: int = BLOCKED_THRESHOLD_NS) -> list[tuple[int, int]]:
    """Intervals in which the event loop could not run: each late heartbeat was blocked
    from (wake time - lag) to its wake time."""
    return [(s.t_ns - s.lag_ns, s.t_ns) for s in list(record.lag) if s.lag_ns >= threshold_ns]
