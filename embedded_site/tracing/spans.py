"""What the server records about each request: plain dataclasses, no Django, no Qt.

Every timestamp is ``time.perf_counter_ns()`` taken in this process, the same clock the
load driver uses, so client and server times line up without any conversion.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
    spans: list[Span] | PackedSpans = field(default_factory=list)  # packed once the app returned
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


class PackedSpans:
    """Spans packed: their times and threads in one array of 64-bit ints, their kind, name and
    error in one sequence of (shared) texts.

    The six Span objects of a hello request, each with two timestamps of its own, take about
    1 KB; packed they take about 470 bytes.  That is what lets a 100,000-request run fit in its
    memory budget: the collector packs a request's spans once its application has returned, and
    the stats sort spans by kind into packed lists too.  It reads like the list it replaces
    (iterate, ``len``, index, append); every read makes new ``Span`` objects, so a reader must
    not rely on a span's identity or change one in place (none does: spans are written once).
    """

    __slots__ = ("_texts", "_times")

    def __init__(self, spans: Iterable[Span] = ()) -> None:
        self._times = array("q")
        # A list while it grows (the stats' spans by kind); a request's packed spans keep a
        # tuple (``pack``), which holds no spare room.
        self._texts: list[str | None] | tuple[str | None, ...] = []
        self.extend(spans)

    def append(self, span: Span) -> None:
        """Add one span; OverflowError or TypeError (a time beyond 64 bits, a thread of None,
        from a foreign file) adds nothing."""
        self.append_row(span.kind, span.name, span.start_ns, span.end_ns, span.thread_id, span.error)

    def extend(self, spans: Iterable[Span]) -> None:
        append = self.append
        for span in spans:
            append(span)

    def append_row(self, kind: str, name: str, start_ns: int, end_ns: int, thread_id: int, error: str | None) -> None:
        """``append`` from a span's fields (``span_rows``), with no Span made."""
        self._times.extend(array("q", (start_ns, end_ns, thread_id)))  # all three or none
        self._texts += (kind, name, error)

    def __len__(self) -> int:
        return len(self._texts) // 3

    def __iter__(self) -> Iterator[Span]:
        x, t = self._texts, self._times
        return map(Span, x[0::3], x[1::3], t[0::3], t[1::3], t[2::3], x[2::3])

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("span index out of range")
        i = 3 * index
        x, t = self._texts, self._times
        return Span(x[i], x[i + 1], t[i], t[i + 1], t[i + 2], x[i + 2])  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedSpans | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it replaces

    def __reduce__(self) -> tuple[type[PackedSpans], tuple[list[Span]]]:
        return (PackedSpans, (list(self),))

    def __repr__(self) -> str:
        return f"PackedSpans({list(self)!r})"


def pack(spans: list[Span]) -> list[Span] | PackedSpans:
    """``spans`` packed, or left as they are when a value does not fit (a time beyond 64 bits,
    a thread of None: a foreign file) or there is nothing to pack."""
    if not spans:
        return spans
    # Both sequences made in one go (not span by span through ``append``): this runs for every
    # request of a recording run, on the loop's thread, in the garbage sweeps.
    packed = PackedSpans()
    try:
        packed._times = array("q", [t for s in spans for t in (s.start_ns, s.end_ns, s.thread_id)])
    except (OverflowError, TypeError):
        return spans
    packed._texts = tuple([x for s in spans for x in (s.kind, s.name, s.error)])
    return packed


def pack_rows(rows: list[tuple[Any, ...]]) -> list[Span] | PackedSpans:
    """``pack`` for spans given as their fields (``span_rows``): Span objects when a value does
    not fit."""
    packed = PackedSpans()
    try:
        for row in rows:
            packed.append_row(*row)
    except (OverflowError, TypeError):
        return [Span(*row) for row in rows]
    packed._texts = tuple(packed._texts)
    return packed


def thread_ids(spans: Iterable[Span]) -> set[int]:
    """The threads the spans ran on (read straight from the array when packed)."""
    if isinstance(spans, PackedSpans):
        return set(spans._times[2::3])
    return {s.thread_id for s in spans}


def span_rows(spans: Iterable[Span]) -> list[tuple[Any, ...]]:
    """Each span as a tuple of its fields in ``Span``'s order, with no Span made when packed.

    A list made by indexing, not a zip of six strided slices: the exports call this three
    times for every request of a run, and for hello's six spans it takes 0.85 µs where the
    slices took 2.4 µs."""
    if isinstance(spans, PackedSpans):
        x, t = spans._texts, spans._times
        return [(x[i], x[i + 1], t[i], t[i + 1], t[i + 2], x[i + 2]) for i in range(0, len(x), 3)]
    return [(s.kind, s.name, s.start_ns, s.end_ns, s.thread_id, s.error) for s in spans]


def kind_count(spans: Iterable[Span], kind: str) -> int:
    """How many of the spans are of ``kind`` (read straight from the texts when packed)."""
    if isinstance(spans, PackedSpans):
        return spans._texts[0::3].count(kind)
    return sum(1 for s in spans if s.kind == kind)
