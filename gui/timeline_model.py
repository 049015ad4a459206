"""The timeline's model: what the run record looks like as bars, lanes and curves, cached.

The record stays the single source of truth; this object only derives drawable geometry
from it.  While a run is going, ``refresh`` ingests what is new since the last call
(new requests, newly finished ones, new lag samples), so a frame costs O(new + in flight),
never O(all requests).  ``finish`` then rebuilds everything once from the engine's own
``request_bars``/``thread_lanes``, the same derivation the exports use, and freezes the
geometry for fast culling.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from operator import attrgetter

from PySide6.QtCore import QPointF, QRectF

from engine.phases import (
    HOP_WAIT,
    PHASES,
    SPAN_PHASE,
    LaneBuilder,
    Phase,
    RequestBar,
    bar_for,
    blocked_regions,
    pack_rows,
    server_only_bar,
)
from engine.record import ClientRequest, RunRecord, ServerRequest

from .geometry import Layers, gc_paused

FAILED = "failed"
LANE_PHASES = frozenset(SPAN_PHASE.values())
BLOCKED_LAG_NS = 20_000_000  # same threshold as engine.phases.blocked_regions / engine.stats
CURVE_BUCKETS = 4000  # a finished curve keeps at most this many points (max per bucket)
BAR_HEIGHT = 0.8  # of a row: leaves a gap so adjacent requests stay distinguishable
_IN_FLIGHT = 1 << 62
FINISH_SLICE = 2000  # requests per step of finish_steps (~10-20 ms each)
_start_of = attrgetter("start_ns")
MAX_INGEST = 400  # new requests taken in per refresh at most (~50 µs each) ...
INGEST_BUDGET_NS = 3_000_000  # ... and no more once a refresh has spent this long: a frame stays short
CATCH_UP_MIN_NS = 500_000  # background geometry work per refresh, even when ingesting took the budget


class TimelineModel:
    """Drawable, cached geometry for one RunRecord (live or finished)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.origin = record.started_ns
        self.complete = False
        self._reset()
        # ingestion state (live only)
        self._ci = self._si = self._li = 0
        self._server_of: dict[int, ServerRequest] = {}
        self._pending: dict[Hashable, ClientRequest | ServerRequest] = {}
        self._row_of: dict[Hashable, int] = {}
        self._free_rows: list[int] = []
        self._busy_rows: list[tuple[int, int]] = []
        self._row_end: list[int] = []  # per row: end of its last request, _IN_FLIGHT while one runs
        self.last_refresh_ns = record.started_ns

    @classmethod
    def of_finished(cls, record: RunRecord) -> TimelineModel:
        model = cls(record)
        model.finish()
        return model

    def _reset(self, live: bool = True) -> None:
        self.bars: list[RequestBar] = []
        self.live_bars: list[RequestBar] = []
        self.rows = 0
        self.row_bars: list[list[RequestBar]] = []
        self.row_starts: list[list[int]] = []
        self.bar_layers = Layers(PHASES, BAR_HEIGHT, live)
        self.failed_layer = Layers((FAILED,), BAR_HEIGHT, live)
        self.live_rects: list[tuple[str, list[QRectF]]] = []
        self.live_failed: list[QRectF] = []
        self.lane_ids: list[int] = []
        self.lane_labels: list[str] = []
        self._lane_index: dict[int, int] = {}
        self.lane_spans: list[list[Phase]] = []
        self._lane_starts: dict[int, tuple[int, list[int]]] = {}
        self.lane_layers = Layers(PHASES, BAR_HEIGHT, live)
        self.lag_points: list[QPointF] = []
        self.max_lag_ms = 0.0
        self.inflight_points: list[QPointF] = []
        self.max_inflight = 0
        self.blocked: list[tuple[float, float]] = []
        if self.record.loop_thread_id is not None:
            self._lane(self.record.loop_thread_id)

    # -- coordinates ----------------------------------------------------------------

    def ms(self, ns: int) -> float:
        return (ns - self.origin) / 1e6

    @property
    def span_ms(self) -> float:
        """Length of the run so far (or in total), in ms."""
        end = self.record.finished_ns if self.complete and self.record.finished_ns else self.last_refresh_ns
        return max(1.0, self.ms(end))

    @property
    def request_count(self) -> int:
        return len(self.bars) + len(self.live_bars)

    # -- building -------------------------------------------------------------------

    def _lane(self, thread_id: int) -> int:
        index = self._lane_index.get(thread_id)
        if index is None:
            index = self._lane_index[thread_id] = len(self.lane_ids)
            self.lane_ids.append(thread_id)
            self.lane_labels.append(self.record.thread_label(thread_id))
            self.lane_spans.append([])
        return index

    def _place_bar(self, bar: RequestBar) -> None:
        row = bar.row
        while len(self.row_bars) <= row:
            self.row_bars.append([])
            self.row_starts.append([])
        self.rows = max(self.rows, row + 1)
        self.bars.append(bar)
        self.row_bars[row].append(bar)
        self.row_starts[row].append(bar.start_ns)
        for p in bar.phases:
            self.bar_layers.add(p.phase, row, self.ms(p.start_ns), self.ms(p.end_ns))
        if bar.failed:
            self.failed_layer.add(FAILED, row, self.ms(bar.start_ns), self.ms(bar.end_ns))

    def _place_lane_span(self, p: Phase) -> None:
        if p.thread_id is None or p.phase not in LANE_PHASES:
            return
        if p.phase == HOP_WAIT and p.thread_id != self.record.loop_thread_id:
            return
        lane = self._lane(p.thread_id)
        self.lane_spans[lane].append(p)
        self.lane_layers.add(p.phase, lane, self.ms(p.start_ns), self.ms(p.end_ns))

    def _add_lag(self, t_ns: int, lag_ns: int) -> None:
        lag_ms = lag_ns / 1e6
        if lag_ns >= BLOCKED_LAG_NS:
            # The loop fell behind from (t - lag) on: start the ramp there, not at the previous sample.
            self.lag_points.append(QPointF(self.ms(t_ns - lag_ns), 0.0))
        self.lag_points.append(QPointF(self.ms(t_ns), lag_ms))
        self.max_lag_ms = max(self.max_lag_ms, lag_ms)
        if lag_ns >= BLOCKED_LAG_NS:
            self.blocked.append((self.ms(t_ns - lag_ns), self.ms(t_ns)))

    # -- live ingestion ---------------------------------------------------------------

    def _take_row(self, key: Hashable, start_ns: int) -> None:
        """The lowest row that is free at ``start_ns`` (as ``pack_rows`` does, but incrementally).

        Requests are not discovered in exact start order, so a row freed for a later start is
        checked against its last end before it is given to an earlier one.
        """
        while self._busy_rows and self._busy_rows[0][0] <= start_ns:
            heapq.heappush(self._free_rows, heapq.heappop(self._busy_rows)[1])
        skipped: list[int] = []
        row = None
        while self._free_rows:
            candidate = heapq.heappop(self._free_rows)
            if self._row_end[candidate] <= start_ns:
                row = candidate
                break
            skipped.append(candidate)
        for candidate in skipped:
            heapq.heappush(self._free_rows, candidate)
        if row is None:
            row = len(self._row_end)
            self._row_end.append(0)
        self._row_end[row] = _IN_FLIGHT
        self._row_of[key] = row
        self.rows = max(self.rows, row + 1)

    def refresh(self, now_ns: int | None = None, budget_ns: int = INGEST_BUDGET_NS) -> None:
        """Ingest what the live record gained since the last call (cost: new + in flight).

        New requests are taken in until ``budget_ns`` has been spent (at most MAX_INGEST):
        in a flood the picture trails the run by a few frames and catches up when it calms."""
        if self.complete:
            return
        clock = time.perf_counter_ns
        deadline = clock() + budget_ns
        rec = self.record
        now_ns = now_ns if now_ns is not None else clock()
        self.last_refresh_ns = now_ns
        if rec.loop_thread_id is not None and not self.lane_ids:
            self._lane(rec.loop_thread_id)
        servers = rec.server[self._si:]
        self._si += len(servers)
        for s in servers:
            if s.client_id is None:
                self._pending[("server", s.id)] = s
                self._take_row(("server", s.id), s.arrival_ns)
            else:
                self._server_of[s.client_id] = s
        # Finish what was in flight first, so its rows are free for the newcomers.
        self._finalize(self._pending.items(), now_ns)
        # Bounded work per frame (MAX_INGEST, budget_ns): in a flood of fast requests the picture
        # may trail the run by a few frames (``finish`` catches up), but a frame never stalls the
        # loop it is measuring.
        clients = rec.client[self._ci:self._ci + MAX_INGEST]
        for i, c in enumerate(clients):
            if i & 7 == 7 and clock() > deadline:
                break
            self._ci += 1
            self._pending[c.id] = c
            self._take_row(c.id, c.intended_ns)
            if c.done_ns is not None:
                self._finalize([(c.id, c)], now_ns)
        live: list[RequestBar] = []
        for key, item in self._pending.items():
            bar = self._live_bar(item, now_ns)
            bar.row = self._row_of[key]
            live.append(bar)
        self.live_bars = live
        self._build_live_rects()
        lag = rec.lag[self._li:]
        self._li += len(lag)
        for sample in lag:
            self._add_lag(sample.t_ns, sample.lag_ns)
        inflight = sum(1 for b in live if b.client_id is not None)
        self.inflight_points.append(QPointF(self.ms(now_ns), inflight))
        self.max_inflight = max(self.max_inflight, inflight)
        # Re-merging the live coarse level (once per 4x of run length) goes on a slice per refresh.
        catch_up_until = max(deadline, clock() + CATCH_UP_MIN_NS)
        for layers in (self.bar_layers, self.lane_layers):
            layers.grow(self.span_ms)
            layers.catch_up(catch_up_until)

    def _finalize(self, items: Iterable[tuple[Hashable, ClientRequest | ServerRequest]], now_ns: int) -> None:
        """Turn the finished ones among ``items`` into final bars; their rows become free at their end."""
        finished = [(key, bar) for key, item in list(items) if (bar := self._bar_if_done(item, now_ns)) is not None]
        for key, bar in finished:
            del self._pending[key]
            bar.row = self._row_of.pop(key)
            self._place_bar(bar)
            for p in bar.phases:
                self._place_lane_span(p)
            self._row_end[bar.row] = bar.end_ns
            heapq.heappush(self._busy_rows, (bar.end_ns, bar.row))

    def _bar_if_done(self, item: ClientRequest | ServerRequest, now_ns: int) -> RequestBar | None:
        if isinstance(item, ServerRequest):
            return server_only_bar(item, now_ns) if item.end_ns is not None else None
        if item.done_ns is None:
            return None
        server = self._server_of.get(item.id)
        # The server may note its end a moment after the client has the response.
        if server is not None and server.end_ns is None and now_ns - item.done_ns < 1_000_000_000:
            return None
        return bar_for(item, server, now_ns)

    def _live_bar(self, item: ClientRequest | ServerRequest, now_ns: int) -> RequestBar:
        if isinstance(item, ServerRequest):
            return server_only_bar(item, now_ns)
        return bar_for(item, self._server_of.get(item.id), now_ns)

    def _build_live_rects(self) -> None:
        by_key: dict[str, list[QRectF]] = {}
        for bar in self.live_bars:
            for p in bar.phases:
                x0 = self.ms(p.start_ns)
                by_key.setdefault(p.phase, []).append(QRectF(x0, bar.row, self.ms(p.end_ns) - x0, BAR_HEIGHT))
        self.live_rects = [(k, by_key[k]) for k in PHASES if k in by_key]

    # -- finished ---------------------------------------------------------------------

    def finish(self) -> None:
        """Rebuild from the whole record with the engine's derivation, then freeze the geometry."""
        with gc_paused():
            for _ in self.finish_steps():
                pass

    def finish_steps(self, slice_requests: int = FINISH_SLICE) -> Iterator[None]:
        """``finish`` in slices: yields after every ``slice_requests`` requests or so, so a window
        can build a huge run's model between frames (run each slice inside ``gc_paused``).

        Until the last step the model keeps what it showed before (the live picture); the
        result is swapped in at the end in one go.
        """
        rec = self.record
        end_ns = rec.finished_ns or time.perf_counter_ns()
        origin = self.origin
        # 1. Bars, as engine.phases.request_bars derives them, a slice at a time.
        by_client = rec.server_by_client_id()
        get = by_client.get
        clients, servers = list(rec.client), list(rec.server)
        bars: list[RequestBar] = []
        for i in range(0, len(clients), slice_requests):
            bars.extend([bar_for(c, get(c.id), end_ns) for c in clients[i:i + slice_requests]])
            yield
        bars.extend(server_only_bar(s, end_ns) for s in servers if s.client_id is None)
        bars.sort(key=_start_of)
        rows = pack_rows(bars)
        yield
        # 2. Their rectangles, rows and hit-test lists.
        bar_spans: dict[str, list[tuple[float, float, float]]] = {k: [] for k in PHASES}
        failed: list[tuple[float, float, float]] = []
        row_bars: list[list[RequestBar]] = [[] for _ in range(rows)]
        row_starts: list[list[int]] = [[] for _ in range(rows)]
        count = 0
        for i in range(0, len(bars), slice_requests):
            for bar in bars[i:i + slice_requests]:
                row = bar.row
                row_bars[row].append(bar)
                row_starts[row].append(bar.start_ns)
                for p in bar.phases:
                    spans = bar_spans.get(p.phase)
                    if spans is None:
                        spans = bar_spans[p.phase] = []
                    spans.append((row, (p.start_ns - origin) / 1e6, (p.end_ns - origin) / 1e6))
                count += len(bar.phases)
                if bar.failed:
                    failed.append((row, (bar.start_ns - origin) / 1e6, (bar.end_ns - origin) / 1e6))
            yield
        # 3. Thread lanes, as engine.phases.thread_lanes derives them.
        builder = LaneBuilder(rec)
        for i in range(0, len(servers), slice_requests):
            builder.add(servers[i:i + slice_requests])
            yield
        lanes = builder.lanes()
        yield
        lane_spans_xy: dict[str, list[tuple[float, float, float]]] = {k: [] for k in PHASES}
        lane_count = 0
        step = slice_requests * 5
        for index, lane in enumerate(lanes):
            for i in range(0, len(lane.spans), step):
                for p in lane.spans[i:i + step]:
                    spans = lane_spans_xy.get(p.phase)
                    if spans is None:
                        spans = lane_spans_xy[p.phase] = []
                    spans.append((index, (p.start_ns - origin) / 1e6, (p.end_ns - origin) / 1e6))
                yield
            lane_count += len(lane.spans)
            lane.spans.sort(key=_start_of)  # for hit testing; drawing order is the layers' business
        yield
        # 4. Frozen level-of-detail geometry.
        end_ms = max(1.0, (end_ns - origin) / 1e6)
        bar_layers = Layers.frozen_from(bar_spans, count, BAR_HEIGHT)
        failed_layer = Layers.frozen_from({FAILED: failed}, len(failed), BAR_HEIGHT)
        lane_layers = Layers.frozen_from(lane_spans_xy, lane_count, BAR_HEIGHT)
        for layers in (bar_layers, failed_layer, lane_layers):
            yield from layers.freeze_steps(end_ms)
        # 5. Curves, then swap everything in.
        inflight_points = _in_flight_curve(bars, self.ms, max(1.0, self.ms(end_ns)))
        yield
        self._reset(live=False)
        self.last_refresh_ns = end_ns
        for sample in list(rec.lag):
            self._add_lag(sample.t_ns, sample.lag_ns)
        self.blocked = [(self.ms(a), self.ms(b)) for a, b in blocked_regions(rec)]
        self.bars, self.rows, self.row_bars, self.row_starts = bars, rows, row_bars, row_starts
        self.bar_layers, self.failed_layer, self.lane_layers = bar_layers, failed_layer, lane_layers
        self.lane_ids = [lane.thread_id for lane in lanes]
        self.lane_labels = [lane.label for lane in lanes]
        self._lane_index = {tid: i for i, tid in enumerate(self.lane_ids)}
        self.lane_spans = [lane.spans for lane in lanes]
        self.complete = True
        span = self.span_ms
        self.lag_points = _max_per_bucket(self.lag_points, span)
        self.inflight_points = inflight_points
        self.max_inflight = int(max((p.y() for p in self.inflight_points), default=0))

    # -- hit testing --------------------------------------------------------------------

    def bar_at(self, row: int, t_ms: float) -> RequestBar | None:
        """The request drawn at (row, time), finished or in flight."""
        t_ns = self.origin + int(t_ms * 1e6)
        for bar in self.live_bars:
            if bar.row == row and bar.start_ns <= t_ns <= bar.end_ns:
                return bar
        if not 0 <= row < len(self.row_bars):
            return None
        i = bisect.bisect_right(self.row_starts[row], t_ns) - 1
        if i >= 0 and self.row_bars[row][i].end_ns >= t_ns:
            return self.row_bars[row][i]
        return None

    def lane_span_at(self, lane: int, t_ms: float, slack_ms: float = 0.0) -> Phase | None:
        """The innermost (latest in drawing order) span in ``lane`` covering the time."""
        if not 0 <= lane < len(self.lane_spans):
            return None
        spans = self.lane_spans[lane]
        cached = self._lane_starts.get(lane)
        if cached is None or cached[0] != len(spans):
            cached = self._lane_starts[lane] = (len(spans), [p.start_ns for p in spans])
        t_ns = self.origin + int(t_ms * 1e6)
        slack = int(slack_ms * 1e6)
        i = bisect.bisect_right(cached[1], t_ns + slack)
        best: Phase | None = None
        for p in spans[max(0, i - 400):i]:
            if p.start_ns - slack <= t_ns <= p.end_ns + slack:
                if best is None or PHASES.index(p.phase) >= PHASES.index(best.phase):
                    best = p
        return best

    def server_request(self, bar: RequestBar) -> ServerRequest | None:
        if bar.client_id is None:
            return None
        return self._server_of.get(bar.client_id) or self.record.server_by_client_id().get(bar.client_id)


def _max_per_bucket(points: list[QPointF], span_ms: float) -> list[QPointF]:
    """Keep the highest point of each of CURVE_BUCKETS time buckets (a spike must never vanish)."""
    if len(points) <= CURVE_BUCKETS:
        return points
    width = span_ms / CURVE_BUCKETS
    best: dict[int, QPointF] = {}
    for p in points:
        b = int(p.x() / width)
        if b not in best or p.y() > best[b].y():
            best[b] = p
    return [best[b] for b in sorted(best)]


def _in_flight_curve(bars: list[RequestBar], ms: Callable[[int], float], span_ms: float) -> list[QPointF]:
    """Requests in flight over time as a step curve (client requests only), bucketed by max.

    ``bars`` are sorted by start (as ``request_bars`` returns them)."""
    starts = [b.start_ns for b in bars if b.client_id is not None]
    ends = sorted([b.end_ns for b in bars if b.client_id is not None])
    # The events in time order, an end before a start at the same time (as sorting (t, ±1) does).
    events: list[tuple[int, int]] = []
    append = events.append
    i = 0
    n = len(starts)
    for e in ends:
        while i < n and starts[i] < e:
            append((starts[i], 1))
            i += 1
        append((e, -1))
    events.extend((t, 1) for t in starts[i:])
    if len(events) <= CURVE_BUCKETS:
        points: list[QPointF] = []
        current = 0
        for t, step in events:
            x = ms(t)
            points.append(QPointF(x, current))
            current += step
            points.append(QPointF(x, current))
        return points
    # As _max_per_bucket over those points, without making a QPointF for each of them.
    width = span_ms / CURVE_BUCKETS
    best: dict[int, tuple[float, int]] = {}
    current = 0
    for t, step in events:
        x = ms(t)
        b = int(x / width)
        kept = best.get(b)
        if kept is None or current > kept[1]:
            best[b] = kept = (x, current)
        current += step
        if current > kept[1]:
            best[b] = (x, current)
    return [QPointF(*best[b]) for b in sorted(best)]
