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

from array import array
from dataclasses import dataclass, field

from .derive import Derivation, iter_visible_segments
from .phases import PHASES, blocked_regions
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


def picture(record: RunRecord, columns: int, max_bands: int) -> Picture:
    """The run's request timeline as a ``columns`` × at most ``max_bands`` grid (see the module)."""
    derivation = Derivation.of_record(record)
    bars = derivation.settled + derivation.provisional
    t0 = min((b.start_ns for b in bars), default=record.started_ns)
    t1 = max((b.end_ns for b in bars), default=t0)
    t1 = max(t1, t0 + 1)
    rows = max(1, derivation.rows)
    per_band = -(-rows // max(1, max_bands))
    bands = -(-rows // per_band)
    pic = Picture(t0, t1, columns, bands, rows, per_band, bars=len(bars))
    scale = columns / (t1 - t0)
    rank = {p: i for i, p in enumerate(PHASES)}
    # Per (band, phase): column coverage (in columns of time) as edges plus a difference array.
    edges: dict[tuple[int, int], array] = {}
    steps: dict[tuple[int, int], array] = {}
    failed_cells: dict[int, set[int]] = {}
    last = columns - 1

    def add(key: tuple[int, int], x0: float, x1: float) -> None:
        edge = edges.get(key)
        if edge is None:
            edge = edges[key] = array("d", bytes(8 * columns))
            steps[key] = array("d", bytes(8 * (columns + 1)))
        c0, c1 = min(int(x0), last), min(int(x1), last)
        if c0 == c1:
            edge[c0] += x1 - x0
            return
        edge[c0] += c0 + 1 - x0
        edge[c1] += x1 - c1
        if c1 > c0 + 1:
            step = steps[key]
            step[c0 + 1] += 1.0
            step[c1] -= 1.0

    for bar in bars:
        band = bar.row // per_band
        for phase, start, end in iter_visible_segments(bar.phases):
            add((band, rank[phase]), (start - t0) * scale, (end - t0) * scale)
        if bar.failed:
            cells = failed_cells.setdefault(band, set())
            cells.update(
                range(min(int((bar.start_ns - t0) * scale), last), min(int((bar.end_ns - t0) * scale), last) + 1)
            )
    pic.runs = _majority_runs(edges, steps, columns, bands, per_band)
    for band, cells in sorted(failed_cells.items()):
        pic.failed.extend(Run(band, a, b, "failed", 1.0) for a, b in _ranges(sorted(cells)))
    blocked_cols = set()
    for start, end in blocked_regions(record):
        a = max(0, int((start - t0) * scale))
        b = min(last, int((end - t0) * scale))
        blocked_cols.update(range(a, b + 1))
    pic.blocked = _ranges(sorted(blocked_cols))
    return pic


def _majority_runs(
    edges: dict[tuple[int, int], array], steps: dict[tuple[int, int], array], columns: int, bands: int, per_band: int
) -> list[Run]:
    """Each cell's phase with the most time, merged into runs along each band."""
    by_band: dict[int, list[tuple[int, list[float]]]] = {}
    for (band, phase), edge in edges.items():
        step, level, cover = steps[(band, phase)], 0.0, [0.0] * columns
        for c in range(columns):
            level += step[c]
            cover[c] = level + edge[c]
        by_band.setdefault(band, []).append((phase, cover))
    runs: list[Run] = []
    for band in range(bands):
        layers = by_band.get(band)
        if not layers:
            continue
        current: tuple[int, float] | None = None
        since = 0
        for c in range(columns):
            best, best_cover, total = -1, 0.0, 0.0
            for phase, cover in layers:
                value = cover[c]
                total += value
                if value > best_cover:
                    best, best_cover = phase, value
            if best < 0 or total <= 1e-9:
                cell = None
            else:
                share = min(1.0, total / per_band)
                cell = (best, max(1, round(share * SHARE_STEPS)) / SHARE_STEPS)
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
