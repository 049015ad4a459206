"""The charts load-testing users look at first, computed from a run record: per time bucket the
requests completed per second, the latency p50/p95/p99 of the requests completed in it and the
requests in flight, and a latency histogram with log-spaced bins.

Pure functions of a ``RunRecord`` (live or finished), shared by the charts tab, the comparison
(which overlays several runs on one bucket size, see ``common_bucket_ms``) and the reports.
Plain Python in O(n log n): sorting the completions once is the only step that grows faster
than the number of requests, so 100,000 requests take well under a second.

Definitions match the stats panel's: latency is ``done - intended`` (an open loop counts the
wait for a free connection), percentiles are nearest-rank, "in flight" is a request from sent
to answered (``engine.derive.in_flight_steps``), and time is in ms since the run started, the
timeline's axis.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .derive import in_flight_intervals
from .findings.measure import percentiles
from .record import RunRecord

MAX_BUCKETS = 60  # Locust draws about this many points across its window
HISTOGRAM_BINS = 24


@dataclass(frozen=True, slots=True)
class Bucket:
    """[start_ms, end_ms) of the run; ``seconds`` is how much of it the run covered (the last
    bucket is usually partial, and its rate is over that part only)."""

    start_ms: float
    end_ms: float
    seconds: float
    completed: int  # requests answered (or failed) in the bucket
    errors: int  # of those, the failed ones (an exception, no status, or a status ≥ 400)
    p50_ms: float | None  # None: nothing completed in the bucket
    p95_ms: float | None
    p99_ms: float | None
    in_flight_max: int  # the most requests in flight at any moment of the bucket

    @property
    def rps(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Series:
    bucket_ms: float
    span_ms: float  # the run's length the buckets cover
    buckets: list[Bucket]


@dataclass(frozen=True, slots=True)
class Histogram:
    """``counts[i]`` latencies fell in [edges[i], edges[i+1]) ms (the last bin includes its top)."""

    edges_ms: list[float]
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def nice_bucket_ms(span_ms: float, max_buckets: int = MAX_BUCKETS) -> float:
    """The smallest 1/2/5 × 10^k ms bucket that covers ``span_ms`` in at most ``max_buckets``."""
    raw = max(span_ms, 1e-3) / max(1, max_buckets)
    step = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if step * m >= raw * (1 - 1e-12):
            return step * m
    return step * 10  # unreachable: 10 × step ≥ raw by construction


def run_span_ms(record: RunRecord) -> float:
    """The run's length in ms from its start to its end (or its last answer, while live)."""
    ends = [c.done_ns for c in list(record.client) if c.done_ns is not None]
    end = record.finished_ns or max(ends, default=record.started_ns)
    if ends:
        end = max(end, max(ends))
    return max(0.0, (end - record.started_ns) / 1e6)


def common_bucket_ms(records: list[RunRecord], max_buckets: int = MAX_BUCKETS) -> float:
    """One bucket size for several runs (a comparison overlays them): the longest run's."""
    return nice_bucket_ms(max((run_span_ms(r) for r in records), default=1.0), max_buckets)


def time_series(record: RunRecord, bucket_ms: float | None = None) -> Series:
    """The run cut into buckets of ``bucket_ms`` (default: a nice size giving ≤ MAX_BUCKETS)."""
    origin = record.started_ns
    span_ms = run_span_ms(record)
    size = bucket_ms if bucket_ms is not None and bucket_ms > 0 else nice_bucket_ms(span_ms)
    count = max(1, math.ceil(span_ms / size)) if span_ms > 0 else 1
    size_ns = size * 1e6
    latencies: list[list[float]] = [[] for _ in range(count)]
    errors = [0] * count
    last = count - 1
    for c in list(record.client):
        done_ns = c.done_ns
        if done_ns is None:
            continue
        index = int((done_ns - origin) / size_ns)
        index = last if index > last else 0 if index < 0 else index
        latencies[index].append((done_ns - c.intended_ns) / 1e6)
        if not c.ok:
            errors[index] += 1
    flying = _in_flight_max(record, origin, size_ns, count)
    buckets = []
    for i in range(count):
        start, end = i * size, (i + 1) * size
        seconds = max(0.0, min(end, span_ms) - start) / 1000
        values = latencies[i]
        p50, p95, p99 = percentiles(values, (50, 95, 99)) if values else (None, None, None)
        buckets.append(Bucket(start, end, seconds, len(values), errors[i], p50, p95, p99, flying[i]))
    return Series(size, span_ms, buckets)


def _in_flight_max(record: RunRecord, origin: int, size_ns: float, count: int) -> list[int]:
    """Per bucket, the highest in-flight level reached in it (the level carried in counts).

    Starts and ends are sorted apart (ints sort fast) and merged, an end before a start at the
    same instant, as ``engine.derive.in_flight_steps`` orders them."""
    intervals = in_flight_intervals(record)
    starts = sorted([s for s, _e in intervals])
    ends = sorted([e for _s, e in intervals])
    out = [0] * count
    level = top = 0
    i = j = 0
    n = len(starts)
    bucket = 0
    limit = origin + size_ns
    while i < n or j < n:
        if j < n and (i >= n or ends[j] <= starts[i]):
            t, step = ends[j], -1
            j += 1
        else:
            t, step = starts[i], 1
            i += 1
        while t >= limit and bucket < count - 1:
            out[bucket] = top
            bucket += 1
            limit = origin + (bucket + 1) * size_ns
            top = level  # what was in flight when the next bucket began
        level += step
        if level > top:
            top = level
    out[bucket] = max(out[bucket], top)
    for k in range(bucket + 1, count):
        out[k] = level
    return out


def latency_histogram(record: RunRecord, bins: int = HISTOGRAM_BINS) -> Histogram:
    """The completed requests' latencies in ``bins`` log-spaced bins from the fastest to the
    slowest (log: a run's latencies often span three decades, and a linear axis hides the
    fast ones in its first bin)."""
    values = sorted((c.done_ns - c.intended_ns) / 1e6 for c in list(record.client) if c.done_ns is not None)
    return histogram_of(values, bins)


def histogram_of(
    sorted_ms: list[float], bins: int = HISTOGRAM_BINS, lo: float | None = None, hi: float | None = None
) -> Histogram:
    """A log-spaced histogram of sorted latencies; ``lo``/``hi`` fix the range (a comparison
    draws several runs on the same bins)."""
    if not sorted_ms:
        return Histogram([], [])
    low = max(lo if lo is not None else sorted_ms[0], 1e-3)
    high = max(hi if hi is not None else sorted_ms[-1], low)
    if high <= low * (1 + 1e-9):
        return Histogram([low, high], [len(sorted_ms)])
    ratio = high / low
    edges = [low * ratio ** (i / bins) for i in range(bins + 1)]
    edges[-1] = high
    counts = []
    for i in range(bins):
        left = bisect_left(sorted_ms, edges[i]) if i else 0
        right = bisect_right(sorted_ms, edges[i + 1]) if i == bins - 1 else bisect_left(sorted_ms, edges[i + 1])
        counts.append(right - left)
    # A fixed range may leave values outside it: below is in the first bin already (it counts
    # from the first value), above goes to the last.
    counts[-1] += len(sorted_ms) - bisect_right(sorted_ms, edges[-1])
    return Histogram(edges, counts)


def common_histograms(records: list[RunRecord], bins: int = HISTOGRAM_BINS) -> list[Histogram]:
    """One histogram per run, all on the same log-spaced bins (fastest to slowest of them all)."""
    values = [
        sorted((c.done_ns - c.intended_ns) / 1e6 for c in list(r.client) if c.done_ns is not None) for r in records
    ]
    present = [v for v in values if v]
    if not present:
        return [Histogram([], []) for _ in records]
    lo = min(v[0] for v in present)
    hi = max(v[-1] for v in present)
    return [histogram_of(v, bins, lo, hi) if v else Histogram([], []) for v in values]
