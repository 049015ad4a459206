"""From a run record to what a timeline shows, in one incremental builder: bars with their
phases and rows, upstream calls nested under the request that made them, thread lanes,
the blocked regions, requests in flight and the outliers.

The live window, the finished window, the text timeline and the exports all use
``Derivation``, so they can never disagree.  ``feed`` takes in whatever the record gained
since the last call (the record is live: the driver and the collector keep appending);
a request becomes a *settled* bar, whose row never changes, once it and every request
before it in the record's order have finished.  So rows are decided exactly as a build
from the finished record decides them: the live picture's settled bars are the final
ones.  What is not settled yet (in flight, or finished behind one still in flight) is
derived again on each feed as a *provisional* bar.

Rows: a request takes the lowest row whose last request ended before it started, in the
record's order (the order requests were made), so the picture's height is how many
overlapped.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import attrgetter, itemgetter

from embedded_site.tracing import spans as k
from embedded_site.tracing.spans import span_rows

from .findings.measure import subtract
from .loop_lane import LoopLaneBuilder, metered
from .phases import (
    AWAIT,
    BLOCKED_THRESHOLD_NS,
    CLIENT_QUEUE,
    FRAMEWORK,
    HOP_WAIT,
    NETWORK,
    NO_LOOP,
    PHASE_RANK,
    PHASES,
    RESPONSE,
    SPAN_PHASE,
    VIEW,
    Phase,
    RequestBar,
    ThreadLane,
    span_phase,
)
from .record import ClientRequest, RunRecord, ServerRequest

SERVER_GRACE_NS = 1_000_000_000  # the server's application may return a moment after the client has the response
ODD_STREAM_SHARE = 0.1  # a stream with fewer than this share of the largest stream's requests is "odd"
OUTLIER_OVER_MEDIAN = 3.0  # above p99 is an outlier only if also this many times the median
MAX_SLOW_OUTLIERS = 10
_start_of = attrgetter("start_ns")
_LOOP_FREE = frozenset((k.AWAIT, k.HOP_WAIT))  # a coroutine waiting: the loop is free meanwhile


def _span_ranks(on_loop: bool) -> dict[str, tuple[int, str]]:
    """span kind -> (drawing rank, phase), as ``span_phase`` maps it, for a span on the loop's
    thread or off it: one dict lookup per span on the hot path of a 100,000-request run."""
    ranks = {}
    for kind in SPAN_PHASE:
        phase = span_phase(kind, 1 if on_loop else 2, 1)
        if phase is not None:
            ranks[kind] = (PHASE_RANK[phase], phase)
    return ranks


_ON_LOOP = _span_ranks(True)
_OFF_LOOP = _span_ranks(False)
_rank_of = itemgetter(0)
_framework_names: dict[tuple[str, str], str] = {}  # (method, path) -> "GET /path", shared by the bars


def server_phases(server: ServerRequest, end_fallback: int, loop_tid: int | None) -> list[Phase]:
    """The server's part of a bar in drawing order: Django around the view, the response being
    sent, then the spans (stably sorted by drawing order)."""
    end = server.end_ns or end_fallback
    tid = server.thread_id
    key = (server.method, server.path)
    name = _framework_names.get(key)
    if name is None:
        name = f"{server.method} {server.path}"
        if len(_framework_names) < 10_000:
            _framework_names[key] = name
    phases = [Phase(FRAMEWORK, server.arrival_ns, end, tid, name)]
    response_start = server.response_start_ns
    if response_start is not None and response_start < end:
        phases.append(Phase(RESPONSE, response_start, end, tid))
    ranked = []
    on_loop, off_loop = _ON_LOOP, (_ON_LOOP if loop_tid is None else _OFF_LOOP)
    for kind, span_name, start, span_end, span_tid, _error in span_rows(server.spans):
        found = (on_loop if span_tid == loop_tid else off_loop).get(kind)
        if found is not None:
            ranked.append((found[0], Phase(found[1], start, span_end, span_tid, span_name)))
    ranked.sort(key=_rank_of)
    phases.extend([phase for _rank, phase in ranked])
    return phases


def bar_for(
    client: ClientRequest, server: ServerRequest | None, now_ns: int, loop_tid: int | None = None
) -> RequestBar:
    """One client request as a bar: client queue and network under the server's phases."""
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
        server_id=server.id if server else None,
        stream=client.stream,
        first_byte_ns=client.first_byte_ns,
    )
    sent = client.sent_ns or end
    phases = [Phase(CLIENT_QUEUE, intended, sent)] if sent > intended else []
    phases.append(Phase(NETWORK, sent, end))
    if server is not None:
        phases.extend(server_phases(server, end, loop_tid))
        if server.chunks_ns:
            bar.chunks_ns = list(server.chunks_ns)
    bar.phases = phases
    return bar


def server_only_bar(server: ServerRequest, now_ns: int, loop_tid: int | None = None) -> RequestBar:
    """A request no client of the run sent (e.g. an upstream call of a fan-out demo)."""
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
        server_id=server.id,
    )
    bar.phases = server_phases(server, end, loop_tid)
    return bar


def visible_segments(phases: list[Phase]) -> list[tuple[str, int, int]]:
    """What a bar (or a lane) shows at each moment, as non-overlapping (phase, start, end) in time
    order: the phase latest in drawing order among those covering it, as layered drawing shows."""
    return list(iter_visible_segments(phases))


def iter_visible_segments(phases: list[Phase]) -> Iterator[tuple[str, int, int]]:
    """``visible_segments`` one at a time (a lane of 500,000 spans can be taken in steps)."""
    events = []
    for p in phases:
        if p.end_ns > p.start_ns:
            rank = PHASE_RANK.get(p.phase, 0)
            events.append((p.start_ns, 1, rank))
            events.append((p.end_ns, -1, rank))
    events.sort()
    counts = [0] * len(PHASES)
    top, since = -1, 0
    i, n = 0, len(events)
    while i < n:
        t = events[i][0]
        while i < n and events[i][0] == t:
            counts[events[i][2]] += events[i][1]
            i += 1
        new_top = len(counts) - 1
        while new_top >= 0 and counts[new_top] <= 0:
            new_top -= 1
        if new_top != top:
            if top >= 0 and t > since:
                yield PHASES[top], since, t
            top, since = new_top, t


class RowPacker:
    """The lowest row free at a request's start; requests come roughly, not exactly, in start
    order, so a freed row is checked against its last end before it is given out."""

    def __init__(self) -> None:
        self.row_end: list[int] = []
        self._free: list[int] = []
        self._busy: list[tuple[int, int]] = []

    def take(self, start_ns: int, end_ns: int) -> int:
        busy, free, row_end = self._busy, self._free, self.row_end
        while busy and busy[0][0] <= start_ns:
            heapq.heappush(free, heapq.heappop(busy)[1])
        skipped = []
        row = None
        while free:
            candidate = heapq.heappop(free)
            if row_end[candidate] <= start_ns:
                row = candidate
                break
            skipped.append(candidate)
        for candidate in skipped:
            heapq.heappush(free, candidate)
        if row is None:
            row = len(row_end)
            row_end.append(0)
        row_end[row] = end_ns
        heapq.heappush(busy, (end_ns, row))
        return row

    def copy(self) -> RowPacker:
        other = RowPacker()
        other.row_end, other._free, other._busy = list(self.row_end), list(self._free), list(self._busy)
        return other

    @property
    def rows(self) -> int:
        return len(self.row_end)


class LaneBuilder:
    """Thread lanes from finished server requests, added in any order and any number of slices.

    The event loop's lane shows what the loop itself did.  With ``from_activity`` and a record
    whose loop was metered it is made of what was measured (``engine.loop_lane``, added with
    ``add_phases``), and the requests' spans on the loop's thread are left out of it; else it
    is made of those spans: the code that ran on it (views between their awaits, blocking
    calls, CPU, templates), not the time a coroutine spent suspended.  The other lanes show
    every span their thread ran."""

    def __init__(self, record: RunRecord, from_activity: bool = False, keep: bool = True) -> None:
        self.record = record
        self.keep = keep  # False: only hand out what each ``add`` made (a writer that keeps nothing)
        self._by_thread: dict[int, dict[str, list[Phase]]] = {}
        self._first: dict[int, int] = {}
        self.loop_measured = from_activity and metered(record)

    def add_phases(self, phases: list[Phase]) -> None:
        """Take in spans already made (the measured loop lane's)."""
        if not self.keep:
            return
        by_thread, first = self._by_thread, self._first
        for p in phases:
            tid = p.thread_id
            groups = by_thread.get(tid)
            if groups is None:
                groups = by_thread[tid] = {}
                first[tid] = p.start_ns
            groups.setdefault(p.phase, []).append(p)

    def add(self, servers: Iterable[ServerRequest]) -> list[Phase]:
        """Take in finished server requests; returns the lane spans they added."""
        loop_tid = self.record.loop_thread_id
        added: list[Phase] = []
        by_thread, first, keep, loop_measured = self._by_thread, self._first, self.keep, self.loop_measured
        on_loop, off_loop = _ON_LOOP, (_ON_LOOP if loop_tid is None else _OFF_LOOP)
        for server in servers:
            # Each span's fields (no Span made for packed spans: ``spans.span_rows``).
            spans = span_rows(server.spans)
            free = None  # the intervals in which this request's coroutine waited, if it did
            for kind, name, start, end, tid, _error in spans:
                if tid == loop_tid:
                    if kind in _LOOP_FREE or loop_measured:
                        continue  # suspended, not running: the loop was free (or the lane is measured)
                    found = on_loop.get(kind)
                else:
                    found = off_loop.get(kind)
                if found is None:
                    continue
                phase = found[1]
                if keep:
                    groups = by_thread.get(tid)
                    if groups is None:
                        groups = by_thread[tid] = {}
                        first[tid] = start
                    elif start < first[tid]:
                        first[tid] = start
                if tid == loop_tid and kind == k.VIEW:
                    if free is None:
                        free = sorted((row[2], row[3]) for row in spans if row[0] in _LOOP_FREE and row[4] == loop_tid)
                    if free:
                        new = [Phase(phase, a, b, tid, name) for a, b in subtract((start, end), free)]
                        if keep:
                            groups.setdefault(phase, []).extend(new)
                        added.extend(new)
                        continue
                one = Phase(phase, start, end, tid, name)
                if keep:
                    group = groups.get(phase)
                    if group is None:
                        groups[phase] = [one]
                    else:
                        group.append(one)
                added.append(one)
        return added

    def lanes(self) -> list[ThreadLane]:
        """Loop first, then by first use; spans in drawing order, then by start.  Lanes are
        numbered from 1 in each run ("request thread #1", "#2", …), whatever the thread's own name."""
        loop_tid, first = self.record.loop_thread_id, self._first
        if loop_tid is not None and loop_tid != NO_LOOP and loop_tid not in self._by_thread:
            self._by_thread[loop_tid], first[loop_tid] = {}, 0  # always there, even when it ran nothing
        order = sorted(self._by_thread, key=lambda t: (t != loop_tid, first[t], t))
        # The record numbers each kind of thread from 1 per run in order of first use, so a lane
        # built from a slice of the run keeps the thread's own number.
        labels = [self.record.thread_label(t) for t in order]
        lanes = []
        for tid, label in zip(order, labels):
            groups = self._by_thread[tid]
            spans: list[Phase] = []
            for phase in sorted(groups, key=PHASE_RANK.__getitem__):
                group = sorted(groups[phase], key=_start_of)
                spans.extend(group)
            lanes.append(ThreadLane(tid, label, spans))
        return lanes


class Derivation:
    """The incremental builder (see the module docstring).  ``settled`` only grows; read its new
    tail after each ``feed``; ``provisional`` is replaced on each ``feed``."""

    def __init__(self, record: RunRecord, lanes: bool = True, keep: bool = True, measured_loop: bool = True) -> None:
        """``lanes=False``: bars only (a reader that never asks for the thread lanes).
        ``keep=False``: a consumer that writes bars and lane spans as they settle (an export)
        takes them with ``take_settled`` and ``new_lane_spans``, and none are held here.
        ``measured_loop=False``: the loop's lane is made of the spans that ran on it even when
        the loop was metered (an export that writes the measured lane beside it)."""
        self.record = record
        self.keep = keep
        self.settled: list[RequestBar] = []
        self.provisional: list[RequestBar] = []
        self.packer = RowPacker()
        self.with_lanes = lanes
        self.lane_builder = LaneBuilder(record, from_activity=measured_loop, keep=keep)
        self.loop_lane = LoopLaneBuilder(record) if self.lane_builder.loop_measured and lanes else None
        self.in_flight = 0  # client requests sent and not answered, at the last feed
        self.complete = False
        self._ci = self._si = 0
        self._queue: deque[ClientRequest] = deque()
        self._server_of: dict[int, ServerRequest] = {}
        self._orphans: dict[int, ServerRequest] = {}  # server-only requests not nested yet
        self._children_of: dict[int, list[ServerRequest]] = {}  # upstream calls by their parent's server id
        self._open_servers: dict[int, ServerRequest] = {}  # server requests not finished yet (for lanes)
        self.new_lane_spans: list[Phase] = []  # what the last ``feed`` added to the lanes
        self.provisional_rows = 0

    @classmethod
    def of_record(cls, record: RunRecord, now_ns: int | None = None) -> Derivation:
        """The whole record in one go, as after a run."""
        d = cls(record)
        d.feed(now_ns, final=True)
        return d

    @property
    def rows(self) -> int:
        return self.packer.rows

    def bars_by_start(self) -> list[RequestBar]:
        """Every bar, upstream calls too (each also in its parent's ``children``, with the parent's
        row and ``parent_id``), sorted by start: what a flat list of requests (an export) wants."""
        bars = self.settled + self.provisional
        bars += [child for bar in bars for child in bar.children]
        return sorted(bars, key=_start_of)

    def lanes(self) -> list[ThreadLane]:
        return self.lane_builder.lanes()

    def take_settled(self) -> list[RequestBar]:
        """Hand over the bars settled so far and forget them: a reader that reduces the bars as
        they come (the report card's grid, the trace) never holds a whole 100,000-request run's bars."""
        bars, self.settled = self.settled, []
        return bars

    def server_request(self, client_id: int) -> ServerRequest | None:
        return self._server_of.get(client_id)

    def feed(self, now_ns: int | None = None, final: bool = False, limit: int | None = None) -> int:
        """Take in what the record gained; settle what can be settled.  ``final``: the record is
        over, settle everything (what never finished ends at ``now_ns``).  ``limit``: take in at
        most this many new client requests (to build a finished run in slices; ``final`` takes
        effect with the last slice).  Returns how many bars were settled by this call."""
        if self.complete:
            return 0
        rec = self.record
        if now_ns is None:
            now_ns = rec.finished_ns or max((c.done_ns or 0 for c in list(rec.client)), default=rec.started_ns)
        loop_tid = rec.loop_thread_id
        servers = rec.server[self._si :]
        self._si += len(servers)
        for s in servers:
            if s.parent_id is not None:
                self._children_of.setdefault(s.parent_id, []).append(s)
            elif s.client_id is None:
                self._orphans[s.id] = s
            else:
                self._server_of[s.client_id] = s
            self._open_servers[s.id] = s
        done = (s for s in self._open_servers.values() if s.end_ns is not None or final)
        if limit is None:
            done_servers = list(done)
            more_servers = False
        else:  # lanes in slices too (their order does not matter)
            done_servers = list(islice(done, limit + 1))
            more_servers = len(done_servers) > limit
            del done_servers[limit:]
        for s in done_servers:
            del self._open_servers[s.id]
        self.new_lane_spans = self.lane_builder.add(done_servers) if self.with_lanes else []
        clients = rec.client[self._ci :] if limit is None else rec.client[self._ci : self._ci + limit]
        self._ci += len(clients)
        slicing = final and (self._ci < len(rec.client) or more_servers)
        if slicing:
            final = False  # more slices to come
            now_ns = max(now_ns, SERVER_GRACE_NS + max((c.done_ns or 0 for c in clients), default=0))
        if self.loop_lane is not None:
            measured = self.loop_lane.add(final=final)
            self.lane_builder.add_phases(measured)
            self.new_lane_spans.extend(measured)
        self._queue.extend(clients)
        before = len(self.settled)
        queue, packer = self._queue, self.packer
        while queue:
            c = queue[0]
            server = self._server_of.get(c.id)
            if not final:
                if c.done_ns is None:
                    break
                # Settled once the server's application returned (spans keep coming after the
                # response: Django's request_finished handlers), or after a grace period.
                if (server is None or server.returned_ns is None) and now_ns - c.done_ns < SERVER_GRACE_NS:
                    break
            queue.popleft()
            self._settle(bar_for(c, server, now_ns, loop_tid), server, packer, now_ns)
        if final:
            for calls in self._children_of.values():  # calls naming a parent this record does not hold
                for call in calls:
                    self._orphans[call.id] = call
            self._children_of.clear()
            for s in list(self._orphans.values()):  # upstream calls whose parent was not found
                bar = server_only_bar(s, now_ns, loop_tid)
                bar.row = packer.take(bar.start_ns, bar.end_ns)
                self.settled.append(bar)
            self._orphans.clear()
            self.provisional = []
            self.in_flight = 0
            self.complete = True
            if self.keep:  # outliers are a property of the whole run: a keep=False consumer has none
                mark_outliers(self.settled)
            return len(self.settled) - before
        if not slicing:
            self._provisional(now_ns, loop_tid)
        return len(self.settled) - before

    def _settle(self, bar: RequestBar, server: ServerRequest | None, packer: RowPacker, now_ns: int) -> None:
        bar.row = packer.take(bar.start_ns, bar.end_ns)
        if server is not None and (self._orphans or self._children_of):
            bar.children = self._nest(server, bar, now_ns)
        self.settled.append(bar)

    def _nest(self, server: ServerRequest, parent: RequestBar, now_ns: int) -> list[RequestBar]:
        """The upstream calls this request made, taken out of the orphans: those that name it as
        their parent (the fan-out demos send its id in a header); in a record without parent ids,
        for each of its awaits that names an upstream path, the call that ran inside it (closest fit)."""
        loop_tid = self.record.loop_thread_id
        named = self._children_of.pop(server.id, None)
        if named is not None:
            children = []
            for call in sorted(named, key=attrgetter("arrival_ns")):
                child = server_only_bar(call, now_ns, loop_tid)
                child.row, child.parent_id = parent.row, parent.client_id
                children.append(child)
            return children
        if not self._orphans:
            return []
        children = []
        for span in list(server.spans):
            if span.kind != k.AWAIT:
                continue
            best, slack = None, None
            for orphan in self._orphans.values():
                if orphan.end_ns is None or orphan.path not in span.name:
                    continue
                if span.start_ns <= orphan.arrival_ns and orphan.end_ns <= span.end_ns:
                    fit = (orphan.arrival_ns - span.start_ns) + (span.end_ns - orphan.end_ns)
                    if slack is None or fit < slack:
                        best, slack = orphan, fit
            if best is not None:
                del self._orphans[best.id]
                child = server_only_bar(best, now_ns, self.record.loop_thread_id)
                child.row, child.parent_id = parent.row, parent.client_id
                children.append(child)
        return children

    def _provisional(self, now_ns: int, loop_tid: int | None) -> None:
        packer = self.packer.copy()
        bars = []
        in_flight = 0
        for c in self._queue:
            if c.done_ns is None and c.sent_ns is not None:
                in_flight += 1
            bar = bar_for(c, self._server_of.get(c.id), now_ns, loop_tid)
            bar.row = packer.take(bar.start_ns, bar.end_ns if c.done_ns is not None else 1 << 62)
            bars.append(bar)
        for s in self._orphans.values():
            bar = server_only_bar(s, now_ns, loop_tid)
            bar.row = packer.take(bar.start_ns, bar.end_ns if s.end_ns is not None else 1 << 62)
            bars.append(bar)
        self.provisional = bars
        self.in_flight = in_flight
        self.provisional_rows = packer.rows


def mark_outliers(bars: list[RequestBar]) -> None:
    """Flag what stands out: the requests of a stream much smaller than the others (a scenario's
    odd one), and the slowest requests above the run's p99 that also took several times the
    median (at most MAX_SLOW_OUTLIERS of them, slowest first, so the marks stay rare)."""
    per_stream: dict[int, int] = {}
    for b in bars:
        if b.stream is not None:
            per_stream[b.stream] = per_stream.get(b.stream, 0) + 1
    if len(per_stream) > 1:
        largest = max(per_stream.values())
        odd = {s for s, n in per_stream.items() if n < ODD_STREAM_SHARE * largest}
        for b in bars:
            if b.stream in odd:
                b.outlier = "the odd stream of the scenario"
    done = [b for b in bars if b.client_id is not None and not b.in_flight]
    latencies = sorted(b.end_ns - b.start_ns for b in done)
    if len(latencies) < 10:
        return
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    bound = max(p99, OUTLIER_OVER_MEDIAN * latencies[len(latencies) // 2])
    slow = sorted(
        (b for b in done if b.end_ns - b.start_ns > bound and not b.outlier), key=lambda b: b.start_ns - b.end_ns
    )
    for b in slow[:MAX_SLOW_OUTLIERS]:
        b.outlier = f"slower than the run's p99 ({p99 / 1e6:.1f} ms)"


def in_flight_intervals(record: RunRecord) -> list[tuple[int, int]]:
    """What "in flight" means everywhere (stats, strip): a client request from sent to answered."""
    return [(c.sent_ns, c.done_ns) for c in list(record.client) if c.sent_ns is not None and c.done_ns is not None]


def in_flight_steps(record: RunRecord) -> list[tuple[int, int]]:
    """(time, requests in flight from then on), at each change; an end before a start at the same time."""
    intervals = in_flight_intervals(record)
    events = sorted([(s, 1) for s, _e in intervals] + [(e, -1) for _s, e in intervals])
    out: list[tuple[int, int]] = []
    current = 0
    for t, step in events:
        current += step
        if out and out[-1][0] == t:
            out[-1] = (t, current)
        else:
            out.append((t, current))
    return out


def lag_intervals(record: RunRecord) -> list[tuple[int, int, int]]:
    """Each heartbeat as the interval it measured: (from, to, lag).  A late heartbeat covers the
    time it was late (t - lag .. t), so a 1 s stall reads 1 s across the frozen second."""
    return [(s.t_ns - s.lag_ns, s.t_ns, s.lag_ns) for s in list(record.lag)]


def blocked(lag_ns: int) -> bool:
    return lag_ns >= BLOCKED_THRESHOLD_NS


__all__ = [
    "AWAIT",
    "HOP_WAIT",
    "PHASES",
    "VIEW",
    "Derivation",
    "LaneBuilder",
    "RowPacker",
    "bar_for",
    "in_flight_intervals",
    "in_flight_steps",
    "lag_intervals",
    "mark_outliers",
    "server_only_bar",
    "server_phases",
    "visible_segments",
]
