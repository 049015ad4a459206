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
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter

from PySide6.QtCore import QRectF

# Drawing more than this many rectangles in one frame costs more than ~10 ms; beyond it a
# coarser level is used (measured: drawRects ≈ 0.2 µs per prebuilt QRectF).
FRAME_BUDGET = 25_000
LEVEL_FACTOR = 4
LEVELS = 9


@dataclass
class _Sorted:
    """One key's rectangles sorted by start, ready for slicing by a time window."""

    rects: list[QRectF]
    starts: list[float]
    max_ends: list[float]

    @classmethod
    def build(cls, spans: list[tuple[float, float, float]], height: float) -> _Sorted:
        """``spans`` are (row, x0, x1); the result is sorted by x0."""
        spans.sort(key=itemgetter(1))
        return cls(
            [QRectF(x0, row, x1 - x0, height) for row, x0, x1 in spans],
            [s[1] for s in spans],
            list(accumulate((s[2] for s in spans), max)),
        )

    def window(self, t0: float, t1: float) -> tuple[int, int]:
        return bisect.bisect_right(self.max_ends, t0), bisect.bisect_left(self.starts, t1)


def merge(spans: list[tuple[float, float, float]], eps: float) -> list[tuple[float, float, float]]:
    """Widen every (row, x0, x1) span, sorted by row then x0, to at least ``eps`` and fuse
    neighbours in the same row closer than ``eps``; the result stays sorted."""
    out: list[tuple[float, float, float]] = []
    last_row, last_x0, last_x1 = None, 0.0, 0.0
    for row, x0, x1 in spans:
        if x1 < x0 + eps:
            x1 = x0 + eps
        if row == last_row and x0 <= last_x1 + eps:
            if x1 > last_x1:
                last_x1 = x1
            continue
        if last_row is not None:
            out.append((last_row, last_x0, last_x1))
        last_row, last_x0, last_x1 = row, x0, x1
    if last_row is not None:
        out.append((last_row, last_x0, last_x1))
    return out


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
            self.spans[key].append((row, x0, x1))
            self.rects[key].append(QRectF(x0, row, x1 - x0, self.height))
        self._add_merged(key, row, x0, x1)

    def _add_merged(self, key: str, row: float, x0: float, x1: float) -> None:
        eps = self.live_eps
        x1 = max(x1, x0 + eps)
        cur = self._open.get((key, row))
        if cur is not None and x0 <= cur.right() + eps and x1 >= cur.left() - eps:
            # Overlapping or within a pixel: one rectangle. Spans arrive roughly, not exactly,
            # in time order (a long view finishes after the short ones it began before).
            if x1 > cur.right():
                cur.setRight(x1)
            if x0 < cur.left():
                cur.setLeft(x0)
            return
        rect = QRectF(x0, row, x1 - x0, self.height)
        self._merged[key].append(rect)
        if cur is None or x0 > cur.left():
            self._open[(key, row)] = rect

    def grow(self, span_ms: float) -> None:
        """Keep the live merged level at most ~2000 rectangles per row and key as the run lengthens.

        Re-merging starts from the already merged rectangles, so its cost is bounded by
        their number, not by the number of requests; it happens once per 4x of run length.
        """
        if not self.live or span_ms / self.live_eps <= 2000:
            return
        self.live_eps = span_ms / 500
        old, self._merged, self._open = self._merged, {k: [] for k in self.keys}, {}
        for key, rects in old.items():
            for r in sorted(rects, key=lambda r: (r.top(), r.left())):
                self._add_merged(key, r.top(), r.left(), r.right())

    def freeze(self, span_ms: float) -> None:
        """Sort and build the level pyramid; ``span_ms`` is the run's length (sets the coarsest level).

        Levels go from coarse (a rectangle is at least 1/250 of the run) to fine, 4x per step,
        and stop once a level keeps more than half the rectangles: finer ones would buy nothing
        over the exact list.
        """
        exact = {k: _Sorted.build(list(v), self.height) for k, v in self.spans.items()}
        coarse: list[tuple[int, float, dict[str, list[tuple[float, float, float]]]]] = []
        if self.count > FRAME_BUDGET:
            by_row = {k: sorted(v) for k, v in self.spans.items()}
            eps = max(span_ms, 1e-3) / 250
            for _ in range(LEVELS):
                merged = {k: merge(v, eps) for k, v in by_row.items()}
                total = sum(len(v) for v in merged.values())
                if total > self.count // 2:
                    break
                if coarse and total < 2 * coarse[-1][0]:
                    coarse.pop()  # hardly more rectangles than the coarser level: keep the finer one only
                coarse.append((total, eps, merged))
                eps /= LEVEL_FACTOR
        levels = [(e, {k: _Sorted.build(v, self.height) for k, v in m.items()}) for _n, e, m in reversed(coarse)]
        self._levels = [(0.0, exact), *levels]

    def visible(self, t0: float, t1: float) -> tuple[float, list[tuple[str, list[QRectF]]]]:
        """(level resolution in ms, [(key, rectangles)]) to draw for the window [t0, t1] ms in key
        order: the finest level whose visible rectangles fit the frame budget (bisections only)."""
        if self._levels is None:
            if self.count <= FRAME_BUDGET:
                return 0.0, [(k, self.rects[k]) for k in self.keys if self.rects[k]]
            return self.live_eps, [(k, self._merged[k]) for k in self.keys if self._merged[k]]
        windows: list[tuple[str, _Sorted, int, int]] = []
        chosen = 0.0
        for eps, by_key in self._levels:
            windows = [(k, by_key[k], *by_key[k].window(t0, t1)) for k in self.keys if k in by_key]
            chosen = eps
            if sum(hi - lo for _k, _s, lo, hi in windows) <= FRAME_BUDGET:
                break
        return chosen, [(k, s.rects[lo:hi]) for k, s, lo, hi in windows if hi > lo]
