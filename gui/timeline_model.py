"""The timeline's model: the engine's derivation of a run (``engine.derive``) mapped to pixels.

Nothing here decides what a request was doing or which row it goes in: ``Derivation`` does,
for the live view, the finished view and the exports alike.  This object only turns its
bars, lanes and curves into data coordinates (x in ms since the run started, y in rows) and
caches them: while a run is going, ``refresh`` feeds the derivation and adds the bars it
settled since the last call (their geometry never changes), and redraws the provisional
ones; ``finish`` continues the same derivation to the end, then freezes the geometry with
level-of-detail pyramids for fast culling (original → mapped → display, as pyqtgraph does).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator

from PySide6.QtCore import QPointF, QRectF

from engine.derive import Derivation, in_flight_steps, iter_visible_segments, lag_intervals, visible_segments
from engine.loop_lane import metered, with_idle
from engine.phases import (
    BLOCKED_THRESHOLD_NS,
    FAILED,
    NO_LOOP,
    PHASE_RANK,
    PHASES,
    Phase,
    RequestBar,
    blocked_regions,
)
from engine.record import RunRecord, ServerRequest

from .geometry import Layers, gc_paused

CURVE_BUCKETS = 4000  # a finished curve keeps at most this many points (max per bucket)
BAR_HEIGHT = 0.8  # of a row: leaves a gap so adjacent requests stay distinguishable
CHILD_TOP, CHILD_HEIGHT, CHILD_SLOTS = 0.42, 0.09, 4  # upstream calls: thin stripes in the parent bar's lower half
FINISH_SLICE = 2000  # requests per step of finish_steps (~10-20 ms each)
# Kept for callers that tuned the old ingestion: the derivation now takes in everything new on
# each refresh, so what is drawn trails what finished by one refresh at most.
MAX_INGEST = 1 << 30
INGEST_BUDGET_NS = 3_000_000
CATCH_UP_NS = 1_000_000  # background re-merge work per refresh


class TimelineModel:
    """Drawable, cached geometry for one RunRecord (live or finished)."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record
        self.origin = record.started_ns
        self.complete = False
        self.derivation = Derivation(record)
        self._lag_seen = 0
        self._reset()
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
        self.child_layers = Layers(PHASES, CHILD_HEIGHT, live)
        self.failed_layer = Layers((FAILED,), BAR_HEIGHT, live)
        self.live_rects: list[tuple[str, list[QRectF]]] = []
        self.first_bytes: list[tuple[int, float]] = []  # (row, x) of each first-byte tick
        self.outliers: list[RequestBar] = []  # in start order
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
        if self.record.loop_thread_id not in (None, NO_LOOP):
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
        self.bars.append(bar)
        self.row_bars[row].append(bar)
        self.row_starts[row].append(bar.start_ns)
        ms = self.ms
        layers = self.bar_layers
        for p in bar.phases:
            layers.add(p.phase, row, ms(p.start_ns), ms(p.end_ns))
        for key, a, b in visible_segments(bar.phases):  # for the live majority level (zoomed out)
            layers.add_segment(row, key, ms(a), ms(b))
        for j, child in enumerate(bar.children):
            y = row + CHILD_TOP + (j % CHILD_SLOTS) * CHILD_HEIGHT
            for p in child.phases:
                self.child_layers.add(p.phase, y, ms(p.start_ns), ms(p.end_ns))
        if bar.first_byte_ns is not None and bar.first_byte_ns < bar.end_ns:
            self.first_bytes.append((row, ms(bar.first_byte_ns)))
        if bar.failed:
            self.failed_layer.add(FAILED, row, ms(bar.start_ns), ms(bar.end_ns))

    def _place_lane_span(self, p: Phase) -> None:
        if p.thread_id is None:
            return
        lane = self._lane(p.thread_id)
        self.lane_spans[lane].append(p)
        self.lane_layers.add(p.phase, lane, self.ms(p.start_ns), self.ms(p.end_ns))

    def _lag_curve(self, intervals: list[tuple[int, int, int]]) -> None:
        """Each heartbeat as a step over the interval it measured (a late one covers t - lag .. t)."""
        points = self.lag_points
        for begin, t_ns, lag_ns in intervals:
            lag_ms = lag_ns / 1e6
            points.append(QPointF(self.ms(begin), lag_ms))
            points.append(QPointF(self.ms(t_ns), lag_ms))
            if lag_ms > self.max_lag_ms:
                self.max_lag_ms = lag_ms
            if lag_ns >= BLOCKED_THRESHOLD_NS:
                self.blocked.append((self.ms(begin), self.ms(t_ns)))

    # -- live ---------------------------------------------------------------------------

    def refresh(self, now_ns: int | None = None, budget_ns: int = INGEST_BUDGET_NS) -> None:
        """Feed the derivation what the live record gained, add what it settled, redraw the rest.

        Cost: new requests + those not settled yet; everything that finished is drawn."""
        if self.complete:
            return
        clock = time.perf_counter_ns
        now_ns = now_ns if now_ns is not None else clock()
        self.last_refresh_ns = now_ns
        rec, d = self.record, self.derivation
        if rec.loop_thread_id not in (None, NO_LOOP) and not self.lane_ids:
            self._lane(rec.loop_thread_id)
        start = len(d.settled)
        d.feed(now_ns)
        for bar in d.settled[start:]:
            self._place_bar(bar)
        for p in d.new_lane_spans:
            self._place_lane_span(p)
        self.live_bars = d.provisional
        self.rows = max(d.rows, d.provisional_rows)
        self._build_live_rects()
        lag = rec.lag[self._lag_seen :]
        self._lag_seen += len(lag)
        self._lag_curve([(s.t_ns - s.lag_ns, s.t_ns, s.lag_ns) for s in lag])
        x = self.ms(now_ns)
        if self.inflight_points:
            self.inflight_points.append(QPointF(x, self.inflight_points[-1].y()))
        self.inflight_points.append(QPointF(x, d.in_flight))
        self.max_inflight = max(self.max_inflight, d.in_flight)
        # Re-merging the live coarse level (once per 4x of run length) goes on a slice per refresh.
        until = clock() + CATCH_UP_NS
        for layers in (self.bar_layers, self.child_layers, self.lane_layers):
            layers.grow(self.span_ms)
            layers.catch_up(until)

    def _build_live_rects(self) -> None:
        by_key: dict[str, list[QRectF]] = {}
        ms = self.ms
        for bar in self.live_bars:
            for p in bar.phases:
                x0 = ms(p.start_ns)
                by_key.setdefault(p.phase, []).append(QRectF(x0, bar.row, ms(p.end_ns) - x0, BAR_HEIGHT))
        self.live_rects = [(k, by_key[k]) for k in PHASES if k in by_key]

    # -- finished ---------------------------------------------------------------------

    def finish(self) -> None:
        """Continue the derivation to the end of the record, then freeze the geometry."""
        with gc_paused():
            for _ in self.finish_steps():
                pass

    def finish_steps(self, slice_requests: int = FINISH_SLICE) -> Iterator[None]:
        """``finish`` in slices: yields after every ``slice_requests`` requests or so, so a window
        can build a huge run's model between frames (run each slice inside ``gc_paused``).

        Until the last step the model keeps what it showed before (the live picture); the
        result is swapped in at the end in one go.
        """
        rec, d = self.record, self.derivation
        end_ns = rec.finished_ns or time.perf_counter_ns()
        origin = self.origin
        # 1. The bars: the same derivation the live view fed, taken to the end.
        while not d.complete:
            d.feed(end_ns, final=True, limit=slice_requests)
            yield
        bars = sorted(d.settled, key=lambda b: b.start_ns)
        rows = d.rows
        yield
        # 2. Their rectangles (per phase, and what each row shows for the coarse levels), rows,
        # hit-test lists, first bytes and the upstream calls nested in their parents.
        bar_spans: dict[str, list[tuple[float, float, float]]] = {k: [] for k in PHASES}
        child_spans: dict[str, list[tuple[float, float, float]]] = {k: [] for k in PHASES}
        # What each row shows, row by row and in time order (a row's bars never overlap).
        row_segments: list[list[tuple[float, str, float, float]]] = [[] for _ in range(rows)]
        failed: list[tuple[float, float, float]] = []
        first_bytes: list[tuple[int, float]] = []
        row_bars: list[list[RequestBar]] = [[] for _ in range(rows)]
        row_starts: list[list[int]] = [[] for _ in range(rows)]
        count = child_count = 0
        for i in range(0, len(bars), slice_requests):
            for bar in bars[i : i + slice_requests]:
                row = bar.row
                row_bars[row].append(bar)
                row_starts[row].append(bar.start_ns)
                for p in bar.phases:
                    bar_spans[p.phase].append((row, (p.start_ns - origin) / 1e6, (p.end_ns - origin) / 1e6))
                row_segments[row] += [
                    (row, key, (a - origin) / 1e6, (b - origin) / 1e6) for key, a, b in visible_segments(bar.phases)
                ]
                count += len(bar.phases)
                for j, child in enumerate(bar.children):
                    y = row + CHILD_TOP + (j % CHILD_SLOTS) * CHILD_HEIGHT
                    for p in child.phases:
                        child_spans[p.phase].append((y, (p.start_ns - origin) / 1e6, (p.end_ns - origin) / 1e6))
                    child_count += len(child.phases)
                if bar.first_byte_ns is not None and bar.first_byte_ns < bar.end_ns:
                    first_bytes.append((row, (bar.first_byte_ns - origin) / 1e6))
                if bar.failed:
                    failed.append((row, (bar.start_ns - origin) / 1e6, (bar.end_ns - origin) / 1e6))
            yield
        segments = [seg for part in row_segments for seg in part]
        del row_segments
        # 3. Thread lanes, as the derivation groups them.
        lanes = d.lanes()
        yield
        lane_spans_xy: dict[str, list[tuple[float, float, float]]] = {k: [] for k in PHASES}
        lane_segments: list[tuple[float, str, float, float]] = []
        lane_count = 0
        step = slice_requests * 10
        for index, lane in enumerate(lanes):
            for i in range(0, len(lane.spans), step):
                for p in lane.spans[i : i + step]:
                    lane_spans_xy[p.phase].append((index, (p.start_ns - origin) / 1e6, (p.end_ns - origin) / 1e6))
                yield
            shown = iter_visible_segments(lane.spans)
            if index == 0 and metered(rec):  # the measured loop lane: idle competes for each pixel
                shown = with_idle(shown, rec)
            for n, (key, a, b) in enumerate(shown, 1):
                lane_segments.append((index, key, (a - origin) / 1e6, (b - origin) / 1e6))
                if n % step == 0:
                    yield
            lane_count += len(lane.spans)
            lane.spans.sort(key=lambda p: p.start_ns)  # for hit testing; drawing order is the layers' business
            yield
        # 4. Frozen level-of-detail geometry.
        end_ms = max(1.0, (end_ns - origin) / 1e6)
        bar_layers = Layers.frozen_from(bar_spans, count, BAR_HEIGHT, segments)
        child_layers = Layers.frozen_from(child_spans, child_count, CHILD_HEIGHT)
        failed_layer = Layers.frozen_from({FAILED: failed}, len(failed), BAR_HEIGHT)
        lane_layers = Layers.frozen_from(lane_spans_xy, lane_count, BAR_HEIGHT, lane_segments)
        for layers in (bar_layers, child_layers, failed_layer, lane_layers):
            yield from layers.freeze_steps(end_ms)
        # 5. Curves, then swap everything in.
        steps = in_flight_steps(rec)
        yield
        self._reset(live=False)
        self.last_refresh_ns = end_ns
        self._lag_curve(lag_intervals(rec))
        self.blocked = [(self.ms(a), self.ms(b)) for a, b in blocked_regions(rec)]
        self.bars, self.rows, self.row_bars, self.row_starts = bars, rows, row_bars, row_starts
        self.bar_layers, self.child_layers, self.failed_layer = bar_layers, child_layers, failed_layer
        self.lane_layers = lane_layers
        self.first_bytes = first_bytes
        self.outliers = [b for b in bars if b.outlier]
        self.lane_ids = [lane.thread_id for lane in lanes]
        self.lane_labels = [lane.label for lane in lanes]
        self._lane_index = {tid: i for i, tid in enumerate(self.lane_ids)}
        self.lane_spans = [lane.spans for lane in lanes]
        self.complete = True
        span = self.span_ms
        self.lag_points = _max_per_bucket(self.lag_points, span)
        self.max_inflight = max((n for _t, n in steps), default=0)
        self.inflight_points = _max_per_bucket(_step_points([(self.ms(t), n) for t, n in steps]), span)

    # -- hit testing --------------------------------------------------------------------

    def bar_at(self, row: int, t_ms: float) -> RequestBar | None:
        """The request drawn at (row, time), finished or in flight."""
        t_ns = self.origin + int(t_ms * 1e6)
        for bar in self.live_bars:
            if bar.row == row and bar.start_ns <= t_ns <= bar.end_ns:
                return bar
        if not 0 <= row < len(self.row_bars):
            return None
        starts = self.row_starts[row]
        i = bisect.bisect_right(starts, t_ns) - 1
        if i >= 0 and self.row_bars[row][i].end_ns >= t_ns:
            return self.row_bars[row][i]
        return None

    def child_at(self, bar: RequestBar, frac: float, t_ms: float) -> RequestBar | None:
        """The upstream call drawn as a stripe inside ``bar`` at (fraction of the row, time), if any:
        the same slots ``_place_bar`` draws them in."""
        t_ns = self.origin + int(t_ms * 1e6)
        for j, child in enumerate(bar.children):
            top = CHILD_TOP + (j % CHILD_SLOTS) * CHILD_HEIGHT
            if top <= frac <= top + CHILD_HEIGHT and child.start_ns <= t_ns <= child.end_ns:
                return child
        return None

    def lane_span_at(self, lane: int, t_ms: float, slack_ms: float = 0.0) -> Phase | None:
        """The innermost (latest in drawing order) span in ``lane`` covering the time."""
        if not 0 <= lane < len(self.lane_spans):
            return None
        spans = self.lane_spans[lane]
        cached = self._lane_starts.get(lane)
        if cached is None or cached[0] != len(spans):
            if not self.complete:
                spans.sort(key=lambda p: p.start_ns)
            cached = self._lane_starts[lane] = (len(spans), [p.start_ns for p in spans])
        t_ns = self.origin + int(t_ms * 1e6)
        slack = int(slack_ms * 1e6)
        i = bisect.bisect_right(cached[1], t_ns + slack)
        best: Phase | None = None
        for p in spans[max(0, i - 400) : i]:
            if p.start_ns - slack <= t_ns <= p.end_ns + slack:
                if best is None or PHASE_RANK[p.phase] >= PHASE_RANK[best.phase]:
                    best = p
        return best

    def server_request(self, bar: RequestBar) -> ServerRequest | None:
        if bar.client_id is None:
            return None
        return self.derivation.server_request(bar.client_id) or self.record.server_by_client_id().get(bar.client_id)

    def next_outlier(self, after_ms: float) -> RequestBar | None:
        """The first outlier starting after ``after_ms`` (wrapping round to the first)."""
        if not self.outliers:
            return None
        t_ns = self.origin + int(after_ms * 1e6)
        i = bisect.bisect_right([b.start_ns for b in self.outliers], t_ns)
        return self.outliers[i % len(self.outliers)]


def _step_points(steps: list[tuple[float, int]]) -> list[QPointF]:
    """A step curve through (x, value from x on) pairs."""
    points: list[QPointF] = []
    current = 0
    for x, n in steps:
        points.append(QPointF(x, current))
        points.append(QPointF(x, n))
        current = n
    return points


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
