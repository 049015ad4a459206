"""The event loop's lane from what the loop's thread measurably did (``RunRecord.loop_activity``).

Idle is empty; busy time is drawn per owner: a request's time in the phase that request was
in on the loop's thread then (its view, a blocking call, CPU, a template, or Django around
the view), the server's own callbacks as "loop overhead", Qt's work as "Qt / window".  The
measurement is a busy total per owner per bucket (1 ms, coarser in a long run), not the moment
inside the bucket: within a bucket the owners are laid end to end from its start, in the order
they first ran there, so a pixel of a bucket or more is exact and a closer zoom shows each
bucket packed left.  A bucket names its busiest requests; the rest are "other requests".

Incremental like the rest of ``engine.derive``: ``add`` takes in the buckets measured since
the last call; a request's pieces wait until it has ended (its phases are known then), the
server's and Qt's are placed at once.  Consecutive pieces of one owner in one phase are
merged, so a 1 s blocking call is one span, not a thousand.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from embedded_site.tracing import spans as k
from embedded_site.tracing.loop_activity import OTHERS, QT, SERVER, LoopActivity
from embedded_site.tracing.spans import span_rows

from .phases import FRAMEWORK, LOOP_OVERHEAD, OTHER_REQUESTS, PHASE_RANK, PHASES, QT_WORK, SPAN_PHASE, Phase
from .record import RunRecord, ServerRequest

_FRAMEWORK_RANK = PHASE_RANK[FRAMEWORK]
_LOOP_FREE = frozenset((k.AWAIT, k.HOP_WAIT))  # a coroutine waiting: not what ran
# span kind -> (drawing rank, phase) of a span on the loop's thread that is what ran there (span_phase
# with the loop's thread id): one dict lookup per span.
_LOOP_SPAN_RANKS = {kind: (PHASE_RANK[phase], phase) for kind, phase in SPAN_PHASE.items() if kind not in _LOOP_FREE}
SERVER_DETAIL = "the server's own callbacks: uvicorn's protocol, the heartbeat, timers"
QT_DETAIL = "Qt: its event dispatch and the window (the thread's CPU time between two loop iterations)"
_FORGET_NS = 1_000_000_000  # iter_final keeps a request's segments this long after it ended
_FORGET_EVERY = 1024  # buckets between two looks for what to forget
OTHERS_DETAIL = "other requests' code, together (each less than the busiest requests named in this stretch)"


def metered(record: RunRecord) -> bool:
    """Whether the loop's activity is (being) measured for this record: its lane is drawn from
    that, not from the requests' spans (a live run's first bucket may still be to come)."""
    activity = record.loop_activity
    return activity is not None and not activity.not_measured


class LoopLaneBuilder:
    """The loop lane's spans from the activity, fed incrementally (see the module docstring)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.activity: LoopActivity | None = record.loop_activity
        self._group = self._entry = 0
        self._si = 0
        self._servers: dict[int, ServerRequest] = {}
        self._pending: dict[int, list[tuple[int, int]]] = {}  # request id -> pieces until it has ended
        self._last: dict[int, Phase] = {}  # owner -> its last span (to merge the next piece into)
        self._segments: dict[int, tuple[list[int], list[tuple[str, int, int, str]]]] = {}

    def add(self, final: bool = False) -> list[Phase]:
        """The spans made from what was measured since the last call (``final``: everything)."""
        activity = self.activity
        if activity is None or not activity.measured:
            return []
        for s in self.record.server[self._si :]:
            self._servers[s.id] = s
            self._si += 1
        groups, self._group, self._entry = activity.read(self._group, self._entry)
        since = activity.since_ns or 0
        out: list[Phase] = []
        self._last = {}  # merge within one call only: spans handed out before are drawn already
        pending = self._pending
        for start, entries in groups:
            t = max(start, since)
            for owner, busy in entries:
                end = t + busy
                if owner > 0:
                    pending.setdefault(owner, []).append((t, end))
                else:
                    self._place(owner, t, end, out)
                t = end
        for owner in list(pending):
            server = self._servers.get(owner)
            if final or server is None or server.end_ns is not None:
                for a, b in pending.pop(owner):
                    self._place(owner, a, b, out)
        return out

    def iter_final(self) -> Iterator[Phase]:
        """Every span of a finished run's lane, in time order, with bounded state: what ``add(final=True)``
        returns, sorted by start, without holding the whole lane (an export writes it as it comes).

        A span is handed out once no later bucket can extend it (the next piece of its owner
        starting where it ends) or start before it; a request's segments and an owner's last
        span are dropped once the buckets are well past them (they would be made again, the same,
        if that request ran again)."""
        activity = self.activity
        if activity is None or not activity.measured:
            return
        sizes = list(activity.sizes)  # taken first: the lists only grow, and entries come before sizes
        buckets, owners, busy = activity.buckets, activity.owners, activity.busy_ns
        servers = self._servers = _ById(list(self.record.server))  # type: ignore[assignment]
        self._si = len(servers.servers)
        since = activity.since_ns or 0
        waiting: list[tuple[int, int, Phase]] = []  # (start, order made, span): a heap by start
        last = self._last = {}
        segments = self._segments
        made = entry = 0
        what, last_get, push, loop_tid = self._what, last.get, heapq.heappush, self.record.loop_thread_id
        segments_get, segments_of, bisect_right = segments.get, self._segments_of, bisect.bisect_right
        for g, size in enumerate(sizes):
            t = max(buckets[g], since)
            while waiting and waiting[0][2].end_ns < t:
                yield heapq.heappop(waiting)[2]
            # Forget what is over: a request's code does not run a second after it ended.
            if g % _FORGET_EVERY == _FORGET_EVERY - 1:
                old = t - _FORGET_NS
                for owner in [o for o, p in last.items() if p.end_ns < old]:
                    del last[owner]
                for sid in [i for i in segments if (servers.get(i).end_ns or t) < old]:  # type: ignore[union-attr]
                    del segments[sid]
            for owner, ns in zip(owners[entry : entry + size], busy[entry : entry + size]):
                end = t + ns
                mid = (t + end) // 2
                # _what inlined for a request's time (most of the entries): its segments, then the one at mid.
                kept = segments_get(owner) if owner > 0 else None
                if kept is None and owner > 0:
                    server = servers.get(owner)
                    if server is not None:
                        kept = segments_of(server)
                if kept is None:
                    phase, detail = what(owner, mid)
                else:
                    starts, found = kept
                    i = bisect_right(starts, mid) - 1
                    if i < 0:
                        i = 0
                    phase, a, b, detail = found[i]
                    if not a <= mid <= b and i + 1 < len(found) and abs(found[i + 1][1] - mid) < abs(mid - b):
                        phase, a, b, detail = found[i + 1]
                piece = last_get(owner)  # merged into the owner's last span, as _place does
                if piece is not None and piece.end_ns == t and piece.phase == phase and piece.detail == detail:
                    piece.end_ns = end
                else:
                    piece = last[owner] = Phase(phase, t, end, loop_tid, detail)
                    push(waiting, (t, made, piece))
                    made += 1
                t = end
            entry += size
        while waiting:
            yield heapq.heappop(waiting)[2]

    def _place(self, owner: int, a: int, b: int, out: list[Phase]) -> None:
        phase, detail = self._what(owner, (a + b) // 2)
        last = self._last.get(owner)
        if last is not None and last.end_ns == a and last.phase == phase and last.detail == detail:
            last.end_ns = b
            return
        piece = Phase(phase, a, b, self.record.loop_thread_id, detail)
        self._last[owner] = piece
        out.append(piece)

    def _what(self, owner: int, t: int) -> tuple[str, str]:
        """(phase, detail) of an owner's busy time at ``t``."""
        if owner == SERVER:
            return LOOP_OVERHEAD, SERVER_DETAIL
        if owner == QT:
            return QT_WORK, QT_DETAIL
        if owner == OTHERS:
            return OTHER_REQUESTS, OTHERS_DETAIL
        server = self._servers.get(owner)
        if server is None:
            return FRAMEWORK, f"request {owner} (not in the record)"
        starts, segments = self._segments_of(server)
        i = bisect.bisect_right(starts, t) - 1
        if i < 0:
            i = 0
        phase, a, b, detail = segments[i]
        if not a <= t <= b and i + 1 < len(segments) and abs(segments[i + 1][1] - t) < abs(t - b):
            phase, a, b, detail = segments[i + 1]
        return phase, detail

    def _segments_of(self, server: ServerRequest) -> tuple[list[int], list[tuple[str, int, int, str]]]:
        """What the request was doing on the loop's thread, innermost first, as time-ordered segments."""
        kept = self._segments.get(server.id)
        if kept is not None and not (server.end_ns is None and kept[1]):
            return kept
        loop_tid = self.record.loop_thread_id
        who = f"request #{server.client_id}" if server.client_id is not None else f"server request {server.id}"
        head = f"{who} {server.method} {server.path}"
        end = server.end_ns or server.returned_ns or server.arrival_ns
        # engine.derive.iter_visible_segments on plain tuples (no Phase made): the phase latest in
        # drawing order among those covering each moment, Django around the view under them all.
        events = [(server.arrival_ns, 1, _FRAMEWORK_RANK), (max(end, server.arrival_ns + 1), -1, _FRAMEWORK_RANK)]
        names: dict[str, str] = {}
        ranks = _LOOP_SPAN_RANKS
        for kind, name, start, span_end, tid, _error in span_rows(server.spans):
            if tid != loop_tid:
                continue
            found = ranks.get(kind)
            if found is None:
                continue
            rank, phase = found
            if span_end > start:
                events.append((start, 1, rank))
                events.append((span_end, -1, rank))
            if phase not in names:
                names[phase] = name
        events.sort()
        counts = [0] * len(PHASES)
        segments = []
        top, since, i, n = -1, 0, 0, len(events)
        while i < n:
            t = events[i][0]
            new_top = top  # only a phase starting now can rise above it; one ending may uncover a lower one
            while i < n and events[i][0] == t:
                _t, step, rank = events[i]
                counts[rank] += step
                if step > 0 and rank > new_top:
                    new_top = rank
                i += 1
            while new_top >= 0 and counts[new_top] <= 0:
                new_top -= 1
            if new_top != top:
                if top >= 0 and t > since:
                    phase = PHASES[top]
                    segments.append((phase, since, t, f"{head} · {names[phase]}" if phase in names else head))
                top, since = new_top, t
        if not segments:
            segments = [(FRAMEWORK, server.arrival_ns, end, head)]
        kept = ([s[1] for s in segments], segments)
        if server.end_ns is not None:
            self._segments[server.id] = kept
        return kept


class _ById:
    """Server requests by id, found by position when the ids follow the record's order (the
    collector numbers them as they arrive): no 100,000-entry dict.  Other ids fall back to one."""

    def __init__(self, servers: list[ServerRequest]) -> None:
        self.servers = servers
        self.first = servers[0].id if servers else 0
        self._by_id: dict[int, ServerRequest] | None = None

    def get(self, server_id: int) -> ServerRequest | None:
        i = server_id - self.first
        if 0 <= i < len(self.servers):
            server = self.servers[i]
            if server.id == server_id:
                return server
        if self._by_id is None:
            self._by_id = {s.id: s for s in self.servers}
        return self._by_id.get(server_id)


def busy_at(record: RunRecord, t0_ns: int, t1_ns: int) -> tuple[int, int, dict[int, int]] | None:
    """What the loop's thread did from ``t0_ns`` to ``t1_ns`` (widened to the buckets it touches):
    (the stretch's length in ns, busy ns, busy ns by owner), or None if it was not measured."""
    activity = record.loop_activity
    if activity is None or not activity.measured:
        return None
    buckets, sizes = activity.buckets, activity.sizes
    n = len(sizes)
    g = max(0, bisect.bisect_right(buckets, t0_ns, 0, n) - 1)
    if g < n and activity.end_of(g) <= t0_ns:
        g += 1  # the bucket before t0 ended before it
    lo, hi = t0_ns, t1_ns
    entry = sum(sizes[:g])
    by_owner: dict[int, int] = {}
    while g < n and buckets[g] <= t1_ns:
        size = sizes[g]
        lo, hi = min(lo, buckets[g]), max(hi, activity.end_of(g))
        for owner, ns in zip(activity.owners[entry : entry + size], activity.busy_ns[entry : entry + size]):
            by_owner[owner] = by_owner.get(owner, 0) + ns
        entry += size
        g += 1
    lo = max(lo, activity.since_ns or lo)
    hi = min(hi, activity.until_ns or hi)
    return max(0, hi - lo), sum(by_owner.values()), by_owner


@dataclass(frozen=True)
class LoopBusy:
    """How busy the loop's thread measurably was over a stretch of a run, and for whom."""

    span_ns: int
    busy_ns: int
    requests_ns: int
    server_ns: int
    qt_ns: int
    requests: int  # how many requests' code ran on the loop in the stretch, named (a bucket names its busiest)

    def share(self, ns: int | None = None) -> float:
        """``ns`` (default: all busy time) over the stretch, never more than 1."""
        return min(1.0, (self.busy_ns if ns is None else ns) / self.span_ns) if self.span_ns else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "share": round(self.share(), 3),
            "requests_share": round(self.share(self.requests_ns), 3),
            "server_share": round(self.share(self.server_ns), 3),
            "qt_share": round(self.share(self.qt_ns), 3),
            "busy_s": round(self.busy_ns / 1e9, 3),
            "measured_s": round(self.span_ns / 1e9, 3),
            "requests": self.requests,
        }


def loop_busy(record: RunRecord, t0_ns: int, t1_ns: int) -> LoopBusy | None:
    """The loop's measured busy time from ``t0_ns`` to ``t1_ns``; None when it was not measured."""
    found = busy_at(record, t0_ns, t1_ns)
    if found is None or found[0] <= 0:
        return None
    span, busy, by_owner = found
    requests = sum(ns for owner, ns in by_owner.items() if owner > 0 or owner == OTHERS)
    return LoopBusy(
        span,
        busy,
        requests,
        by_owner.get(SERVER, 0),
        by_owner.get(QT, 0),
        sum(1 for owner in by_owner if owner > 0),
    )


def owner_label(record: RunRecord, owner: int, servers: dict[int, ServerRequest]) -> str:
    """Whose code an owner of busy time is, in words ("request #3 GET /demo/hello/")."""
    if owner == SERVER:
        return "loop overhead: " + SERVER_DETAIL
    if owner == QT:
        return QT_DETAIL
    if owner == OTHERS:
        return OTHERS_DETAIL
    server = servers.get(owner)
    if server is None:
        return f"request {owner} (not in the record)"
    who = f"request #{server.client_id}" if server.client_id is not None else f"server request {server.id}"
    return f"{who} {server.method} {server.path}"


def activity_at(
    record: RunRecord, t0_ns: int, t1_ns: int, top: int = 6
) -> tuple[int, int, list[tuple[str, int]]] | None:
    """For a tooltip: (measured ns, busy ns, [(whose code, busy ns)] most first, at most ``top``)
    from ``t0_ns`` to ``t1_ns`` widened to whole buckets; None when the loop was not measured."""
    found = busy_at(record, t0_ns, t1_ns)
    if found is None:
        return None
    span, busy, by_owner = found
    wanted = sorted(by_owner.items(), key=lambda kv: -kv[1])[:top]
    ids = {owner for owner, _ in wanted if owner > 0}
    servers = {s.id: s for s in list(record.server) if s.id in ids} if ids else {}
    return span, busy, [(owner_label(record, owner, servers), ns) for owner, ns in wanted]


def owner_at(record: RunRecord, t_ns: int) -> int | None:
    """Whose busy time the measured loop lane draws at ``t_ns`` (a request id, ``SERVER``, ``QT``
    or ``OTHERS``), laid out as ``LoopLaneBuilder`` lays it; None where the loop was idle."""
    activity = record.loop_activity
    if activity is None or not activity.measured:
        return None
    n = len(activity.sizes)
    g = bisect.bisect_right(activity.buckets, t_ns, 0, n) - 1
    if g < 0 or activity.end_of(g) <= t_ns:
        return None
    entry = sum(activity.sizes[:g])
    size = activity.sizes[g]
    t = max(activity.buckets[g], activity.since_ns or 0)
    for owner, ns in zip(activity.owners[entry : entry + size], activity.busy_ns[entry : entry + size]):
        if t <= t_ns < t + ns:
            return owner
        t += ns
    return None


def loop_lane_key(record: RunRecord, t_ns: int) -> tuple[int | None, int] | None:
    """The request (client id, server id) whose code the measured loop lane shows at ``t_ns``,
    for a click on it; None over idle time, loop overhead or Qt."""
    owner = owner_at(record, t_ns)
    if owner is None or owner <= 0:
        return None
    server = next((s for s in list(record.server) if s.id == owner), None)
    return (server.client_id, server.id) if server is not None else None


IDLE = "idle"  # not a phase: the loop waiting, in what a zoomed-out pixel is mostly spent on


def with_idle(segments: Iterable[tuple[str, int, int]], record: RunRecord) -> Iterator[tuple[str, int, int]]:
    """The measured loop lane's segments (time order) with the gaps between them as ``IDLE``, so
    that zoomed out a pixel of the lane where the loop mostly waited shows nothing: without it a
    heartbeat of a few µs in every ms would paint the whole lane (a span is drawn a pixel wide)."""
    activity = record.loop_activity
    t = activity.since_ns if activity is not None and activity.since_ns is not None else None
    for key, a, b in segments:
        if t is not None and a > t:
            yield IDLE, t, a
        yield key, a, b
        t = b if t is None else max(t, b)
    until = activity.until_ns if activity is not None else None
    if t is not None and until is not None and until > t:
        yield IDLE, t, until
