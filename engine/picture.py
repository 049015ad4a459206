"""A run's timeline reduced to a fixed grid, for pictures whose size must not grow with the run.

The report card and the HTML report draw the timeline as SVG.  One rectangle per phase of
every request would make a 100,000-request run a document of 700,000 rectangles; instead the
picture is a grid of ``columns`` time slices by ``bands`` of request rows, and each cell shows
the phase that took most of its time (as the window does when zoomed out: a pixel shows the
phase that took most of it).  When there are more rows than bands, a band holds several rows,
and the cell's ``share`` says how much of those rows' time was busy, so a mostly empty band
is drawn faint rather than full.  Neighbouring cells with the same phase and share merge into
one run, so the output is bounded by ``bands × columns`` and usually far smaller.

The bars come from ``engine.derive`` (the one derivation every view uses); only the
reduction to a grid is done here.
"""

from __future__ import annotations

import weakref
from array import array
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add
from typing import Any

from .derive import Derivation, iter_visible_segments
from .phases import PHASES, RequestBar, blocked_regions
from .record import RunRecord

SHARE_STEPS = 4  # a band's busy share is shown in quarters: 0.25, 0.5, 0.75, 1


@dataclass(frozen=True, slots=True)
class Run:
    """Cells ``col0`` ..< ``col1`` of one band, showing ``phase`` at ``share`` of full strength."""

    band: int
    col0: int
    col1: int
    phase: str
    share: float


@dataclass
class Picture:
    t0_ns: int
    t1_ns: int
    columns: int
    bands: int
    rows: int  # request rows of the derivation (the most requests at once, roughly)
    rows_per_band: int
    runs: list[Run] = field(default_factory=list)
    failed: list[Run] = field(default_factory=list)  # cells a failed request covered (phase "failed")
    blocked: list[tuple[int, int]] = field(default_factory=list)  # column ranges where the loop was blocked
    bars: int = 0  # requests drawn

    @property
    def span_ns(self) -> int:
        return self.t1_ns - self.t0_ns

    def phases_shown(self) -> list[str]:
        """The phases that appear, in the phase table's order (for a legend)."""
        shown = {r.phase for r in self.runs}
        return [p for p in PHASES if p in shown]


_SLICE = 2000  # requests derived at a time: the bars of a whole 100,000-request run never exist at once
_recent: list[tuple[weakref.ref[RunRecord], tuple[Any, ...], Picture]] = []  # the last pictures of finished runs


def picture(record: RunRecord, columns: int, max_bands: int, span_ns: int | None = None) -> Picture:
    """The run's request timeline as a ``columns`` × at most ``max_bands`` grid (see the module).
    ``span_ns``: the time the width stands for, from the run's first request (several runs
    drawn on one shared axis); by default the run's own length.  A finished run's picture is
    kept for the next call with the same arguments (the card and the HTML report share it)."""
    key = (columns, max_bands, span_ns, record.finished_ns, len(record.client), len(record.server))
    for ref, made_for, pic in _recent:
        if ref() is record and made_for == key:
            return pic
    pic = _make(record, columns, max(1, max_bands), span_ns)
    if record.finished:
        _recent.append((weakref.ref(record), key, pic))
        del _recent[:-4]
    return pic


def _extent(record: RunRecord, now_ns: int) -> tuple[int, int]:
    """First bar's start and last bar's end, as the derivation draws them: a client request from
    its intended send time to its answer, a request no client sent from its arrival to its end,
    anything unfinished to ``now_ns``."""
    clients = list(record.client)
    alone = [s for s in list(record.server) if s.client_id is None]
    starts = [c.intended_ns for c in clients] + [s.arrival_ns for s in alone]
    if not starts:
        return record.started_ns, record.started_ns + 1
    ends = [c.done_ns or now_ns for c in clients] + [s.end_ns or now_ns for s in alone]
    return min(starts), max(ends)


def _make(record: RunRecord, columns: int, max_bands: int, span_ns: int | None) -> Picture:
    clients = list(record.client)
    now_ns = record.finished_ns or max((c.done_ns or 0 for c in clients), default=record.started_ns)
    t0, t1 = _extent(record, now_ns)
    t1 = max(t1, t0 + 1) if span_ns is None else t0 + max(span_ns, t1 - t0, 1)
    grid = _Grid(columns, max_bands, t0, columns / (t1 - t0))
    derivation = Derivation(record, lanes=False)  # the thread lanes of a long run would be most of its memory
    while True:
        derivation.feed(now_ns, final=True, limit=_SLICE)
        for bar in derivation.take_settled():
            grid.add(bar)
        if derivation.complete:
            break
    rows = max(1, grid.rows)
    bands = -(-rows // grid.per_band)
    pic = Picture(t0, t1, columns, bands, rows, grid.per_band, bars=grid.bars)
    pic.runs = _majority_runs(grid.edges, grid.steps, columns, bands, grid.per_band, rows)
    for band, cells in sorted(grid.failed.items()):
        pic.failed.extend(Run(band, a, b, "failed", 1.0) for a, b in _ranges(sorted(cells)))
    last = columns - 1
    blocked_cols: set[int] = set()
    for start, end in blocked_regions(record):
        a = max(0, int((start - t0) * grid.scale))
        b = min(last, int((end - t0) * grid.scale))
        blocked_cols.update(range(a, b + 1))
    pic.blocked = _ranges(sorted(blocked_cols))
    return pic


class _Grid:
    """Each (band, phase)'s time per column, as fractions of a column: the partly covered end
    columns in ``edges``, the fully covered ones as +1/-1 steps in ``steps`` (a difference array),
    so a bar adds four numbers per phase whatever its length.  Rows are banded as they come:
    when a row falls beyond ``max_bands`` bands, bands are merged in pairs (the sums add up)."""

    def __init__(self, columns: int, max_bands: int, t0: int, scale: float) -> None:
        self.columns, self.max_bands, self.t0, self.scale = columns, max_bands, t0, scale
        self.per_band = 1
        self.rows = 0
        self.bars = 0
        self.edges: dict[tuple[int, int], array] = {}
        self.steps: dict[tuple[int, int], array] = {}
        self.failed: dict[int, set[int]] = {}
        self.rank = {p: i for i, p in enumerate(PHASES)}

    def _band(self, row: int) -> int:
        self.rows = max(self.rows, row + 1)
        while row // self.per_band >= self.max_bands:
            self._coarsen()
        return row // self.per_band

    def _coarsen(self) -> None:
        self.per_band *= 2
        for table in (self.edges, self.steps):
            merged: dict[tuple[int, int], array] = {}
            for (band, phase), values in sorted(table.items()):
                key = (band // 2, phase)
                into = merged.get(key)
                if into is None:
                    merged[key] = values
                else:
                    for i, v in enumerate(values):
                        into[i] += v
            table.clear()
            table.update(merged)
        failed: dict[int, set[int]] = {}
        for band, cells in self.failed.items():
            failed.setdefault(band // 2, set()).update(cells)
        self.failed = failed

    def add(self, bar: RequestBar) -> None:
        self.bars += 1
        band = self._band(bar.row)
        t0, scale, last = self.t0, self.scale, self.columns - 1
        for phase, start, end in iter_visible_segments(bar.phases):
            self._cover((band, self.rank[phase]), (start - t0) * scale, (end - t0) * scale, last)
        if bar.failed and bar.end_ns > t0:
            a = min(max(0, int((bar.start_ns - t0) * scale)), last)
            b = min(int((bar.end_ns - t0) * scale), last)
            self.failed.setdefault(band, set()).update(range(a, b + 1))

    def _cover(self, key: tuple[int, int], x0: float, x1: float, last: int) -> None:
        edge = self.edges.get(key)
        if edge is None:
            edge = self.edges[key] = array("f", bytes(4 * self.columns))
            self.steps[key] = array("f", bytes(4 * (self.columns + 1)))
        c0, c1 = min(max(0, int(x0)), last), min(int(x1), last)
        if c0 == c1:
            edge[c0] += x1 - x0
            return
        edge[c0] += c0 + 1 - x0
        edge[c1] += x1 - c1
        if c1 > c0 + 1:
            step = self.steps[key]
            step[c0 + 1] += 1.0
            step[c1] -= 1.0


def _majority_runs(
    edges: dict[tuple[int, int], array],
    steps: dict[tuple[int, int], array],
    columns: int,
    bands: int,
    per_band: int,
    rows: int,
) -> list[Run]:
    """Each cell's phase with the most time, merged into runs along each band (the column
    sums and maxima in C: ``accumulate``, ``map``, ``zip``; a 200-band picture stays quick)."""
    keys_of: dict[int, list[tuple[int, int]]] = {}
    for key in edges:
        keys_of.setdefault(key[0], []).append(key)
    runs: list[Run] = []
    for band in range(bands):
        # One band's column sums at a time: 200 bands' of them at once would be tens of MB.
        layers = [
            (key[1], list(map(add, accumulate(steps[key][:columns]), edges[key]))) for key in keys_of.get(band, [])
        ]
        if not layers:
            continue
        phases = [phase for phase, _ in layers]
        current: tuple[int, float] | None = None
        since = 0
        in_band = min(per_band, rows - band * per_band)  # the last band may hold fewer rows
        for c, values in enumerate(zip(*(cover for _, cover in layers))):
            total = sum(values)
            if total <= 1e-6:
                cell = None
            else:
                share = min(1.0, total / in_band)
                cell = (phases[values.index(max(values))], max(1, round(share * SHARE_STEPS)) / SHARE_STEPS)
            if cell != current:
                if current is not None:
                    runs.append(Run(band, since, c, PHASES[current[0]], current[1]))
                current, since = cell, c
        if current is not None:
            runs.append(Run(band, since, columns, PHASES[current[0]], current[1]))
    return runs


def _ranges(cols: list[int]) -> list[tuple[int, int]]:
    """Sorted column numbers as half-open ranges of consecutive columns."""
    out: list[tuple[int, int]] = []
    for c in cols:
        if out and out[-1][1] == c:
            out[-1] = (out[-1][0], c + 1)
        else:
            out.append((c, c + 1))
    return out
