"""Batched, level-of-detail rectangles: what makes a 100,000-request timeline paint in a few ms.

Every phase becomes one ``QRectF`` in data coordinates (x in ms since the run started,
y in rows), grouped per colour key so a frame is one ``QPainter.drawRects`` call per
colour (pyqtgraph issue 2287: one scene item per bar does not scale).  Two regimes:

* *live* (a run is going): rectangles are appended as requests finish, plus one merged
  level at a coarse resolution that grows with the run; drawing picks the exact list when
  it is small, the merged one otherwise.  Work per frame is bounded, never O(all requests).
* *frozen* (the run is over): each key's rectangles are sorted by start with a running
  maximum of their ends, so the visible ones are a slice found by two bisections, and a
  pyramid of merged levels (each span widened to at least one "pixel" of that level,
  neighbours closer than that fused) keeps the count bounded when zoomed out.
"""

from __future__ import annotations

import bisect
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import accumulate, groupby
from operator import itemgetter

from PySide6.QtCore import QRectF

# Drawing more than this many rectangles in one frame costs more than ~10 ms; beyond it a
# coarser level is used (measured: drawRects ≈ 0.2 µs per prebuilt QRectF).
FRAME_BUDGET = 25_000
LEVEL_FACTOR = 4
LEVELS = 9
LOG_MAX = 50_000  # live spans kept for incremental drawing (see ``Layers.added_since``)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection inside; afterwards what exists is frozen (``gc.freeze``).

    Building geometry makes objects by the million that live as long as the model: each
    automatic full collection would walk all of them again (a 100,000-request model spent
    4.6 of its 12.8 s in the collector, up to 1 s at a time).  Freezing moves them out of
    the collector's sight for good; they are still freed by reference counting when the
    model goes, only reference cycles among frozen objects would stay (models make none).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


CHUNK = 2048  # frozen rectangles are made on first use, this many at a time


class _Sorted:
    """One key's rectangles sorted by start, ready for slicing by a time window.

    Only the spans are kept up front; their ``QRectF`` (about 1 µs each to make, most of a
    100,000-request freeze) are made chunk by chunk the first time a frame shows them.
    """

    __slots__ = ("spans", "starts", "max_ends", "height", "_chunks")

    def __init__(self, spans: list[tuple[float, float, float]], height: float) -> None:
        """``spans`` are (row, x0, x1) and are sorted by x0 here (in place)."""
        spans.sort(key=_x0)
        self.spans = spans
        self.starts = [s[1] for s in spans]
        self.max_ends = list(accumulate(map(_x1, spans), max))
        self.height = height
        self._chunks: list[list[QRectF] | None] = [None] * ((len(spans) + CHUNK - 1) // CHUNK)

    def __len__(self) -> int:
        return len(self.spans)

    def window(self, t0: float, t1: float) -> tuple[int, int]:
        return bisect.bisect_right(self.max_ends, t0), bisect.bisect_left(self.starts, t1)

    def rects(self, lo: int, hi: int) -> list[QRectF]:
        """The rectangles ``lo:hi`` (in start order)."""
        if hi <= lo:
            return []
        first, last = lo // CHUNK, (hi - 1) // CHUNK
        chunks = self._chunks
        h = self.height
        for c in range(first, last + 1):
            if chunks[c] is None:
                chunks[c] = [QRectF(x0, row, x1 - x0, h) for row, x0, x1 in self.spans[c * CHUNK : (c + 1) * CHUNK]]
        if first == last:
            return chunks[first][lo - first * CHUNK : hi - first * CHUNK]  # type: ignore[index]
        out = chunks[first][lo - first * CHUNK :]  # type: ignore[index]
        for c in range(first + 1, last):
            out.extend(chunks[c])  # type: ignore[arg-type]
        out.extend(chunks[last][: hi - last * CHUNK])  # type: ignore[index]
        return out


_row = itemgetter(0)
_x0 = itemgetter(1)
_x1 = itemgetter(2)


def merge(spans: list[tuple[float, float, float]], eps: float) -> list[tuple[float, float, float]]:
    """Widen every (row, x0, x1) span, sorted by row then x0, to at least ``eps`` and fuse
    neighbours in the same row closer than ``eps``; the result stays sorted."""
    out: list[tuple[float, float, float]] = []
    append = out.append
    last_row, last_x0, last_x1 = None, 0.0, 0.0
    for row, x0, x1 in spans:
        if x1 < x0 + eps:
            x1 = x0 + eps
        if row == last_row and x0 <= last_x1 + eps:
            if x1 > last_x1:
                last_x1 = x1
            continue
        if last_row is not None:
            append((last_row, last_x0, last_x1))
        last_row, last_x0, last_x1 = row, x0, x1
    if last_row is not None:
        append((last_row, last_x0, last_x1))
    return out


def _merge_into(
    out: list[QRectF],
    opened: dict[tuple[str, float], QRectF],
    eps: float,
    height: float,
    key: str,
    row: float,
    x0: float,
    x1: float,
) -> None:
    """Add a span to a merged level: ``out`` is its key's rectangles, ``opened`` the last one per (key, row)."""
    x1 = max(x1, x0 + eps)
    cur = opened.get((key, row))
    if cur is not None and x0 <= cur.right() + eps and x1 >= cur.left() - eps:
        # Overlapping or within a pixel: one rectangle. Spans arrive roughly, not exactly,
        # in time order (a long view finishes after the short ones it began before).
        if x1 > cur.right():
            cur.setRight(x1)
        if x0 < cur.left():
            cur.setLeft(x0)
        return
    rect = QRectF(x0, row, x1 - x0, height)
    out.append(rect)
    if cur is None or x0 > cur.left():
        opened[(key, row)] = rect


Segment = tuple[float, str, float, float]  # (row, key, x0, x1): what one row shows, disjoint within a row


class MajorityCells:
    """Cells of ``eps`` per row, each given to the key that covers most of it; runs of cells of one
    key are reported to ``on_run(row, key, first cell, end cell)`` once complete.  Each row keeps its
    open run and its open cell, so segments can come one at a time (live) or all at once; those
    of a row must come in time order (a row's requests do: a row is given out only once free)."""

    def __init__(self, eps: float, on_run: Callable[[float, str, int, int], None]) -> None:
        self.eps = eps
        self.on_run = on_run
        self.rows: dict[float, list] = {}  # row -> [run key, run c0, run c1, open cell, {key: covered}]

    def add(self, row: float, key: str, x0: float, x1: float) -> None:
        self.add_row(row, ((key, x0, x1),))

    def add_row(self, row: float, segments: Iterable[tuple[str, float, float]]) -> None:
        """Segments of one row, in time order (all the work is here, on local variables)."""
        eps, on_run = self.eps, self.on_run
        st = self.rows.get(row)
        if st is None:
            st = self.rows[row] = [None, 0, 0, None, {}]
        run = (st[0], st[1], st[2])
        cell, acc = st[3], st[4]
        for key, x0, x1 in segments:
            b0 = int(x0 // eps)
            if cell is None:
                cell = b0
            b1 = int(-(-x1 // eps)) - 1
            if b0 > cell:  # the open cell is complete: it goes to the key covering most of it
                if acc:
                    run = _extend(run, max(acc, key=acc.__getitem__), cell, cell + 1, on_run, row)
                cell, acc = b0, {}
            if b1 <= cell:
                acc[key] = acc.get(key, 0.0) + (x1 - x0)
                continue
            acc[key] = acc.get(key, 0.0) + ((cell + 1) * eps - max(x0, cell * eps))
            run = _extend(run, max(acc, key=acc.__getitem__), cell, cell + 1, on_run, row)
            if b1 > cell + 1:  # the cells it covers whole are its own
                run = _extend(run, key, cell + 1, b1, on_run, row)
            cell, acc = b1, {key: x1 - b1 * eps}
        st[:] = [*run, cell, acc]

    def open_runs(self) -> Iterator[tuple[float, str, int, int]]:
        """What is not complete yet: each row's open run and open cell."""
        for row, (key, c0, c1, cell, acc) in self.rows.items():
            if key is not None:
                yield row, key, c0, c1
            if acc and cell is not None:
                yield row, max(acc, key=acc.__getitem__), cell, cell + 1

    def finish(self) -> None:
        """Report what is still open (no more segments will come)."""
        for row, key, c0, c1 in list(self.open_runs()):
            self.on_run(row, key, c0, c1)
        self.rows = {}


def _extend(
    run: tuple, key: str, c0: int, c1: int, on_run: Callable[[float, str, int, int], None], row: float
) -> tuple:
    """Cells c0..c1 of ``key`` after the run being built: extend it, or report it and start anew."""
    if run[0] == key and run[2] == c0:
        return key, run[1], c1
    if run[0] is not None:
        on_run(row, *run)
    return key, c0, c1


def majority(segments: list[Segment], eps: float) -> dict[str, list[tuple[float, float, float]]]:
    """One "pixel" level: each ``eps``-wide cell of a row takes the key that covers most of it
    (a tiny phase is not widened over its neighbours; a column shows what the time was mostly
    spent on).  ``segments`` are sorted by (row, x0) and disjoint within a row; the result is
    (row, x0, x1) spans per key, neighbouring cells of one key fused."""
    out: dict[str, list[tuple[float, float, float]]] = {}

    def on_run(row: float, key: str, c0: int, c1: int) -> None:
        out.setdefault(key, []).append((row, c0 * eps, c1 * eps))

    cells = MajorityCells(eps, on_run)
    for row, group in groupby(segments, key=_row):
        cells.add_row(row, [(key, x0, x1) for _r, key, x0, x1 in group])
    cells.finish()
    return out


MAJORITY_CELLS = 1000  # a live majority level has at most this many cells across the run
MAJORITY_SLICE = 50_000  # segments per step of a majority level (whole rows)


def _row_chunks(segments: list[Segment], size: int) -> Iterator[list[Segment]]:
    """``segments`` (sorted by row) in pieces of about ``size``, never splitting a row."""
    start, n = 0, len(segments)
    while start < n:
        end = min(n, start + size)
        while end < n and segments[end][0] == segments[end - 1][0]:
            end += 1
        yield segments[start:end]
        start = end


def _as_segments(level: dict[str, list[tuple[float, float, float]]]) -> list[Segment]:
    segs = [(row, key, x0, x1) for key, spans in level.items() for row, x0, x1 in spans]
    segs.sort(key=_seg_order)
    return segs


def _seg_order(s: Segment) -> tuple[float, float]:
    return s[0], s[2]


class LiveMajority:
    """``majority`` for a live run, one segment at a time (see ``MajorityCells``): a complete run
    of cells becomes a rectangle, kept for good and logged, so a view that keeps what it drew adds
    just the new ones; the open ones are drawn over it each frame."""

    def __init__(self, height: float, eps: float = 1.0) -> None:
        self.eps = eps
        self.height = height
        self.closed: dict[str, list[QRectF]] = {}
        self.log: list[tuple[str, QRectF]] = []
        self._cells = MajorityCells(eps, self._close)
        self.add = self._cells.add
        self._tail: list[Segment] | None = None  # added while ``coarser_steps`` runs
        self.rebuilt: LiveMajority | None = None  # what ``coarser_steps`` made

    def _close(self, row: float, key: str, c0: int, c1: int) -> None:
        rect = QRectF(c0 * self.eps, row, (c1 - c0) * self.eps, self.height)
        self.closed.setdefault(key, []).append(rect)
        self.log.append((key, rect))

    def open_rects(self) -> dict[str, list[QRectF]]:
        """Each row's open run and open cell, as rectangles (drawn on top, every frame)."""
        out: dict[str, list[QRectF]] = {}
        eps, h = self.eps, self.height
        for row, key, c0, c1 in self._cells.open_runs():
            out.setdefault(key, []).append(QRectF(c0 * eps, row, (c1 - c0) * eps, h))
        return out

    def coarser(self, eps: float) -> LiveMajority:
        """The same picture at a coarser ``eps``, made from this level's cells (majority of majorities)."""
        steps = self.coarser_steps(eps)
        for _ in steps:
            pass
        assert self.rebuilt is not None
        return self.rebuilt

    def coarser_steps(self, eps: float, step: int = 4096) -> Iterator[None]:
        """``coarser`` in slices (the result is ``self.rebuilt`` when done); segments added to this
        level meanwhile must also be given to ``feed_tail``."""
        other = LiveMajority(self.height, eps)
        # One moment's picture (closed and open), then whatever is added after it, from the tail.
        self._tail = []
        ends = {k: len(rects) for k, rects in self.closed.items()}
        segments: list[Segment] = [
            (r.top(), k, r.left(), r.right()) for k, rects in self.open_rects().items() for r in rects
        ]
        for k, end in ends.items():
            rects = self.closed[k]
            for i in range(0, end, step):
                segments += [(r.top(), k, r.left(), r.right()) for r in rects[i : min(end, i + step)]]
                yield
        segments.sort(key=_seg_order)
        yield
        last: dict[float, float] = {}

        def feed(batch: list[Segment]) -> None:
            for row, k, x0, x1 in batch:
                x0 = max(x0, last.get(row, x0))  # an open cell may overlap its open run's end
                if x1 > x0:
                    other.add(row, k, x0, x1)
                    last[row] = x1

        for i in range(0, len(segments), step):
            feed(segments[i : i + step])
            yield
        while self._tail:  # what came meanwhile, in the order it came (per row: in time order)
            tail, self._tail = self._tail, []
            feed(tail)
        self._tail = None
        self.rebuilt = other

    def feed_tail(self, row: float, key: str, x0: float, x1: float) -> None:
        if self._tail is not None:
            self._tail.append((row, key, x0, x1))


class Layers:
    """Rectangles per colour key; ``add`` while live, ``freeze`` once, ``visible`` every frame."""

    def __init__(self, keys: tuple[str, ...], height: float = 1.0, live: bool = True) -> None:
        self.keys = keys
        self.live = live  # False: built in one go for freezing; skip the live merged level
        self.height = height
        self.count = 0
        self.spans: dict[str, list[tuple[float, float, float]]] = {k: [] for k in keys}
        self.rects: dict[str, list[QRectF]] = {k: [] for k in keys}
        # The live merged level: closed and open rectangles per key; an open one (the last in
        # its row) is extended in place, so nothing is rebuilt per frame.
        self.live_eps = 1.0
        self._merged: dict[str, list[QRectF]] = {k: [] for k in keys}
        self._open: dict[tuple[str, float], QRectF] = {}
        self._levels: list[tuple[float, dict[str, _Sorted]]] | None = None
        # Live only: every span added, in order, so a view that keeps what it drew can add just
        # the new ones; only the last LOG_MAX are kept (``log_base`` counts the ones dropped).
        self.log: list[tuple[str, float, float, float]] = []
        self.log_base = 0
        self._rebuild: Iterator[None] | None = None  # a re-merge at a coarser resolution, under way
        self._tail: list[tuple[str, float, float, float]] | None = None  # spans added while it runs
        # Frozen only: what each row shows (see ``majority``); when given, the coarse levels are
        # made from it, so a pixel column shows the key that covers most of it.
        self.segments: list[Segment] | None = None
        # Live, when fed with ``add_segment``: the same rule, built as the run goes.
        self.majority: LiveMajority | None = None
        self._majority_rebuild: Iterator[None] | None = None  # a coarser majority level, under way

    @classmethod
    def frozen_from(
        cls,
        spans: dict[str, list[tuple[float, float, float]]],
        count: int,
        height: float,
        segments: list[Segment] | None = None,
    ) -> Layers:
        """Layers ready to ``freeze`` straight from (row, x0, x1) spans per key (the lists are taken over);
        ``segments``: what each row shows, sorted by (row, x0) and disjoint within a row, for majority
        coarse levels."""
        layers = cls(tuple(spans), height, live=False)
        layers.spans = spans
        layers.count = count
        layers.segments = segments
        return layers

    @property
    def frozen(self) -> bool:
        return self._levels is not None

    def add(self, key: str, row: float, x0: float, x1: float) -> None:
        if key not in self.spans:
            self.keys = (*self.keys, key)
            self.spans[key], self.rects[key], self._merged[key] = [], [], []
        self.count += 1
        if not self.live:
            self.spans[key].append((row, x0, x1))
            return
        if self.count <= FRAME_BUDGET:  # past that, live frames draw the merged level only
            self.spans[key].append((row, x0, x1))  # its QRectF is made when a frame first needs it
        log = self.log
        log.append((key, row, x0, x1))
        if len(log) > LOG_MAX:
            del log[: LOG_MAX // 2]
            self.log_base += LOG_MAX // 2
        if self.majority is None:  # with a majority level, the per-key merged one is never drawn
            self._add_merged(key, row, x0, x1)

    def add_segment(self, row: float, key: str, x0: float, x1: float) -> None:
        """What a row shows over [x0, x1] (after every ``add`` of its phases), for the live majority level."""
        if self.majority is None:
            self.majority = LiveMajority(self.height)
        self.majority.add(row, key, x0, x1)
        if self._majority_rebuild is not None:
            self.majority.feed_tail(row, key, x0, x1)

    def uses_majority(self, px_ms: float) -> bool:
        """Live: whether ``visible`` draws the majority level (zoomed out, or too many for the exact list)."""
        m = self.majority
        return m is not None and self._levels is None and (self.count > FRAME_BUDGET or px_ms >= m.eps / 4)

    @property
    def log_end(self) -> int:
        """Position after the last span added (for ``added_since``)."""
        return self.log_base + len(self.log)

    def added_since(self, position: int) -> list[tuple[str, float, float, float]] | None:
        """The (key, row, x0, x1) spans added since ``log_end`` was ``position``, in the order they
        came; None if some of them are no longer kept (then draw everything again)."""
        if position < self.log_base:
            return None
        return self.log[position - self.log_base :]

    def _exact(self, key: str) -> list[QRectF]:
        rects, spans, h = self.rects[key], self.spans[key], self.height
        if len(rects) < len(spans):
            rects.extend([QRectF(x0, row, x1 - x0, h) for row, x0, x1 in spans[len(rects) :]])
        return rects

    def _add_merged(self, key: str, row: float, x0: float, x1: float) -> None:
        _merge_into(self._merged[key], self._open, self.live_eps, self.height, key, row, x0, x1)
        if self._tail is not None:
            self._tail.append((key, row, x0, x1))

    def grow(self, span_ms: float) -> None:
        """Keep the live merged level at most ~2000 rectangles per row and key as the run lengthens.

        Re-merging starts from the already merged rectangles, so its cost is bounded by
        their number, not by the number of requests; it happens once per 4x of run length,
        a slice at a time in ``catch_up`` (the current level stays in use until it is done).
        """
        m = self.majority
        if m is not None:
            # Cells stay between about 1 and 4 pixels of a fitted view: finer, several would share a
            # pixel and the last drawn would win; the current level stays in use while the next is made.
            if self._majority_rebuild is None and span_ms / m.eps > MAJORITY_CELLS:
                self._majority_rebuild = m.coarser_steps(span_ms / (MAJORITY_CELLS / LEVEL_FACTOR))
            return
        if not self.live or self._rebuild is not None or span_ms / self.live_eps <= 2000:
            return
        self._rebuild = self._rebuild_steps(span_ms / 500)

    def catch_up(self, deadline_ns: int) -> None:
        """Go on with a re-merge begun by ``grow`` until ``time.perf_counter_ns()`` passes ``deadline_ns``."""
        while self._rebuild is not None and time.perf_counter_ns() < deadline_ns:
            if next(self._rebuild, StopIteration) is StopIteration:
                self._rebuild = None
        first = True
        while self._majority_rebuild is not None and (first or time.perf_counter_ns() < deadline_ns):
            first = False
            if next(self._majority_rebuild, StopIteration) is StopIteration:
                self._majority_rebuild = None
                assert self.majority is not None
                self.majority = self.majority.rebuilt

    def _rebuild_steps(self, eps: float, step: int = 256) -> Iterator[None]:
        merged: dict[str, list[QRectF]] = {k: [] for k in self.keys}
        opened: dict[tuple[str, float], QRectF] = {}
        h = self.height
        self._tail = []
        for key in list(self.keys):
            rects, out = self._merged[key], merged.setdefault(key, [])
            for i in range(0, len(rects), step):
                for r in rects[i : i + step]:
                    _merge_into(out, opened, eps, h, key, r.top(), r.left(), r.right())
                yield
        # What was added meanwhile (it went into the level still in use, too).
        while self._tail:
            tail, self._tail = self._tail, []
            for i in range(0, len(tail), step):
                for key, row, x0, x1 in tail[i : i + step]:
                    _merge_into(merged.setdefault(key, []), opened, eps, h, key, row, x0, x1)
                if i + step < len(tail):
                    yield
            if self._tail:
                yield
        self._tail = None
        self._merged, self._open, self.live_eps = merged, opened, eps

    def freeze(self, span_ms: float) -> None:
        """Sort and build the level pyramid; ``span_ms`` is the run's length (sets the coarsest level).

        Levels go from coarse (a rectangle is at least 1/250 of the run) to fine, 4x per step,
        and stop once a level keeps more than half the rectangles: finer ones would buy nothing
        over the exact list.
        """
        for _ in self.freeze_steps(span_ms):
            pass

    def freeze_steps(self, span_ms: float) -> Iterator[None]:
        """``freeze`` in steps (one sort or one merge of one key each), for building between frames."""
        exact = {}
        for k, v in self.spans.items():
            exact[k] = _Sorted(list(v), self.height)
            yield
        coarse: list[tuple[int, float, dict[str, list[tuple[float, float, float]]]]] = []
        if self.segments:
            yield from self._majority_levels(span_ms, coarse)
        elif self.count > FRAME_BUDGET:
            # Already sorted by x0: a stable sort by row gives (row, x0) order (ties in x0 may
            # keep another x1 order than a full tuple sort, which merging does not see).
            by_row = {k: sorted(s.spans, key=_row) for k, s in exact.items()}
            yield
            eps = max(span_ms, 1e-3) / 250
            for _ in range(LEVELS):
                merged = {}
                for k, v in by_row.items():
                    merged[k] = merge(v, eps)
                    yield
                total = sum(len(v) for v in merged.values())
                if total > self.count // 2:
                    break
                if coarse and total < 2 * coarse[-1][0]:
                    coarse.pop()  # hardly more rectangles than the coarser level: keep the finer one only
                coarse.append((total, eps, merged))
                eps /= LEVEL_FACTOR
        levels = []
        for _n, e, m in reversed(coarse):
            levels.append((e, {k: _Sorted(v, self.height) for k, v in m.items()}))
            yield
        self._levels = [(0.0, exact), *levels]

    def _majority_levels(self, span_ms: float, coarse: list) -> Iterator[None]:
        """Coarse levels by majority, from fine to coarse: each level is made from the one finer
        (fewer inputs each time); the fine ones that hardly merge anything are left out (the exact
        spans are drawn there)."""
        assert self.segments is not None
        segments = self.segments  # sorted by (row, x0), as ``frozen_from`` asks
        n = len(segments)
        yield
        eps = max(span_ms, 1e-3) / 250 / LEVEL_FACTOR ** (LEVELS - 1)
        # Levels finer than most segments merge little (the exact spans are drawn there, about a
        # pixel wide or more): start where half of them are narrower than a cell.
        widths = sorted(x1 - x0 for _r, _k, x0, x1 in segments[:: max(1, n // 2000)])
        median = widths[len(widths) // 2] if widths else 0.0
        levels = LEVELS
        while levels > 1 and eps * LEVEL_FACTOR <= median:
            eps *= LEVEL_FACTOR
            levels -= 1
        found = []
        for _ in range(levels):
            level: dict[str, list[tuple[float, float, float]]] = {}
            for part in _row_chunks(segments, MAJORITY_SLICE):  # whole rows at a time: a step stays short
                for key, spans in majority(part, eps).items():
                    level.setdefault(key, []).extend(spans)
                yield
            total = sum(len(v) for v in level.values())
            if total <= 0.9 * n or found:
                found.append((total, eps, level))  # finer levels would be the exact spans over again
            segments = _as_segments(level)
            yield
            eps *= LEVEL_FACTOR
        coarse.extend(reversed(found))

    def visible(self, t0: float, t1: float, px_ms: float = 0.0) -> tuple[float, list[tuple[str, list[QRectF]]]]:
        """(level resolution in ms, [(key, rectangles)]) to draw for the window [t0, t1] ms in key
        order: the finest level whose visible rectangles fit the frame budget (bisections only).

        ``px_ms`` (ms per pixel): with majority levels, a level finer than a pixel is not used
        while a coarser one exists, so spans narrower than a pixel never paint over the phase
        that covers most of it (the exact rectangles are drawn once they are about a pixel wide).
        """
        if self._levels is None:
            if self.uses_majority(px_ms):
                m = self.majority
                assert m is not None
                opened = m.open_rects()
                return m.eps, [
                    (k, m.closed.get(k, []) + opened.get(k, [])) for k in self.keys if k in m.closed or k in opened
                ]
            if self.count <= FRAME_BUDGET:
                return 0.0, [(k, self._exact(k)) for k in self.keys if self.spans[k]]
            return self.live_eps, [(k, self._merged[k]) for k in self.keys if self._merged[k]]
        levels = self._levels
        if self.segments is not None and px_ms > 0 and len(levels) > 1 and px_ms > levels[1][0]:
            # Zoomed out past the finest majority level: skip the levels finer than a pixel.
            first = next((i for i, (eps, _) in enumerate(levels) if eps >= px_ms * 0.9), len(levels) - 1)
            levels = levels[first:]
        windows: list[tuple[str, _Sorted, int, int]] = []
        chosen = 0.0
        for eps, by_key in levels:
            windows = [(k, by_key[k], *by_key[k].window(t0, t1)) for k in self.keys if k in by_key]
            chosen = eps
            if sum(hi - lo for _k, _s, lo, hi in windows) <= FRAME_BUDGET:
                break
        return chosen, [(k, s.rects(lo, hi)) for k, s, lo, hi in windows if hi > lo]
