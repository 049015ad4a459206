"""Arithmetic over intervals and samples that several findings share (no record types here)."""

from __future__ import annotations

import math
from collections.abc import Iterable

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


def mean_overlap(intervals: list[Interval]) -> float:
    """Total length over the length of the union: 1.0 when no two intervals overlap, N when
    N run side by side the whole time."""
    if not intervals:
        return 0.0
    covered = total(union(intervals))
    return total(intervals) / covered if covered else 0.0


def max_overlap(intervals: list[Interval]) -> int:
    """The most intervals open at one instant (one that ends where another starts does not count)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, step in events:
        current += step
        if current > best:
            best = current
    return best


def level_exceeded(intervals: list[Interval], share: float) -> int:
    """The number at once that was exceeded for less than ``share`` of the time any interval
    was open: ``level_exceeded(views, 0.05)`` ignores the instants where a few more overlapped
    as one finished and the next started."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    time_at: dict[int, int] = {}
    current, last = 0, None
    for t, step in events:
        if last is not None and current:
            time_at[current] = time_at.get(current, 0) + t - last
        current += step
        last = t
    covered = sum(time_at.values())
    if not covered:
        return max_overlap(intervals)
    above = 0
    for level in sorted(time_at, reverse=True):
        above += time_at[level]
        if above > share * covered:
            return level
    return 0


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
