"""Arithmetic over intervals and samples that several findings share (no record types here)."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable
from functools import partial
from itertools import islice
from operator import sub
from typing import Any

Interval = tuple[int, int]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an unsorted list; 0 for an empty one."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals merged where they overlap or touch, in time order."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def total(intervals: Iterable[Interval]) -> int:
    return sum(e - s for s, e in intervals)


def clip(intervals: Iterable[Interval], begin: int, end: int) -> list[Interval]:
    """Each interval cut to [begin, end]; those outside it dropped."""
    return [(max(s, begin), min(e, end)) for s, e in intervals if e > begin and s < end]


def subtract(interval: Interval, holes: list[Interval]) -> list[Interval]:
    """What is left of ``interval`` once the (sorted, disjoint) ``holes`` are cut out."""
    start, end = interval
    pieces = []
    for h_start, h_end in holes:
        if h_end <= start or h_start >= end:
            continue
        if h_start > start:
            pieces.append((start, h_start))
        start = max(start, h_end)
    if start < end:
        pieces.append((start, end))
    return pieces


EXACT_UP_TO = 5_000  # intervals; above this, level_exceeded samples the run at SAMPLES instants
SAMPLES = 20_000


def _sorted_ints(values: Iterable[int]) -> Any:
    """``values`` sorted, as an array of 64-bit ints: an Overlap is kept (``Facts.views``) and a
    list would hold a Python int object per value (a list for values beyond 64 bits)."""
    ordered = sorted(values)
    try:
        return array("q", ordered)
    except (OverflowError, TypeError):
        return ordered


class Overlap:
    """How a set of intervals overlapped: the most open at one instant, the total length,
    the time covered by any, and (on demand) the time spent at each number open.  An
    interval that ends where another starts does not overlap it.

    Built from sorted starts and ends with ``bisect`` and ``accumulate`` doing the walking,
    so 100,000 intervals take milliseconds, not a Python loop per event.
    """

    __slots__ = ("_ends", "_starts", "covered", "most", "total")

    def __init__(
        self,
        intervals: Iterable[Interval] = (),
        *,
        starts: Iterable[int] | None = None,
        ends: Iterable[int] | None = None,
    ) -> None:
        if starts is None or ends is None:
            pairs = intervals if isinstance(intervals, list) else list(intervals)
            starts, ends = [s for s, _ in pairs], [e for _, e in pairs]
        starts, ends = _sorted_ints(starts), _sorted_ints(ends)
        self._starts, self._ends = starts, ends
        self.total = sum(ends) - sum(starts)
        if not starts:
            self.most = self.covered = 0
            return
        self.most = max(map(sub, range(1, len(starts) + 1), map(partial(bisect_right, ends), starts)))
        # Nothing is open just after the j-th end when as many intervals have started by then
        # as have ended: the time until the next start is a gap in the covered time.
        started = map(partial(bisect_right, starts), ends)  # walked once: no list of 100,000 counts
        n = len(starts)
        gaps = sum([starts[k] - e for j, (k, e) in enumerate(zip(started, ends), 1) if k == j and k < n])
        self.covered = ends[-1] - starts[0] - gaps

    @property
    def mean(self) -> float:
        """On average, how many were open while any was: 1.0 when none overlapped."""
        return self.total / self.covered if self.covered else 0.0

    def level_exceeded(self, share: float) -> int:
        """The number open that was exceeded for less than ``share`` of the covered time:
        ignores the instants where a few more overlapped as one ended and the next began."""
        if not self.covered:
            return self.most
        starts, ends = self._starts, self._ends
        if len(starts) > EXACT_UP_TO:
            # Many intervals: the number open at evenly spaced instants, weighted alike, is
            # the time-weighted distribution to within one sample step (1/20,000 of the run).
            first, last = starts[0], ends[-1]
            step = max(1, (last - first) // SAMPLES)
            times = list(range(first, last, step))
            levels = [
                n
                for n in map(sub, map(partial(bisect_right, starts), times), map(partial(bisect_right, ends), times))
                if n
            ]
            levels.sort(reverse=True)
            return levels[min(len(levels) - 1, int(share * len(levels)))] if levels else 0
        times = sorted([*starts, *ends])
        levels = map(sub, map(partial(bisect_right, starts), times), map(partial(bisect_right, ends), times))
        spent: dict[int, int] = {}
        for level, begin, end in zip(levels, times, islice(times, 1, None)):
            if level:
                spent[level] = spent.get(level, 0) + end - begin
        above = 0
        for level in sorted(spent, reverse=True):
            above += spent[level]
            if above > share * self.covered:
                return level
        return 0


def mean_overlap(intervals: list[Interval]) -> float:
    """Total length over the length of the union: 1.0 when no two intervals overlap, N when
    N run side by side the whole time."""
    return Overlap(intervals).mean if intervals else 0.0


def max_overlap(intervals: list[Interval]) -> int:
    """The most intervals open at one instant (one that ends where another starts does not count)."""
    if not intervals:
        return 0
    return most_open([s for s, _ in intervals], [e for _, e in intervals])


def most_open(starts: list[int], ends: list[int]) -> int:
    """``max_overlap`` for intervals given as their starts and ends (any order)."""
    if not starts:
        return 0
    starts, ends = sorted(starts), sorted(ends)
    return max(map(sub, range(1, len(starts) + 1), map(partial(bisect_right, ends), starts)))


def level_exceeded(intervals: list[Interval], share: float) -> int:
    return Overlap(intervals).level_exceeded(share)


def percentiles(values: list[float], qs: Iterable[float]) -> list[float]:
    """Several nearest-rank percentiles with one sort."""
    if not values:
        return [0.0 for _ in qs]
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[max(1, min(n, math.ceil(q / 100 * n))) - 1] for q in qs]


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
