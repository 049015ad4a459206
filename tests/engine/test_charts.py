"""The charts' numbers against a hand count over a real small run (real server, real HTTP)."""

from __future__ import annotations

import math

import pytest

from engine.charts import common_bucket_ms, common_histograms, latency_histogram, nice_bucket_ms, time_series
from engine.findings.measure import percentile


@pytest.fixture(scope="module")
def waves(lab_runner):
    """20 × async-sleep 0.2 s, 5 at a time: four waves of five, each ~0.2 s after the last."""
    return lab_runner.run("async-sleep", concurrency=5, requests=20, params={"delay": 0.2})


def test_buckets_match_a_hand_count(waves) -> None:
    record = waves
    series = time_series(record, bucket_ms=100.0)
    origin = record.started_ns
    done = [c for c in record.client if c.done_ns is not None]
    assert len(done) == 20
    # By hand: each answered request lands in the bucket its answer time falls in.
    by_bucket: dict[int, list[float]] = {}
    for c in done:
        by_bucket.setdefault(int((c.done_ns - origin) / 1e8), []).append((c.done_ns - c.intended_ns) / 1e6)
    assert sum(b.completed for b in series.buckets) == 20
    for i, bucket in enumerate(series.buckets):
        mine = by_bucket.get(i, [])
        assert bucket.completed == len(mine), i
        assert bucket.errors == 0
        if mine:
            assert bucket.p50_ms == percentile(mine, 50)
            assert bucket.p99_ms == percentile(mine, 99) == max(mine)
            assert bucket.p50_ms >= 200.0  # every request slept 0.2 s
            assert math.isclose(bucket.rps, len(mine) / bucket.seconds)
        else:
            assert bucket.p50_ms is None and bucket.rps == 0.0
    # Nothing answers before the first sleep ends; the waves answer five at a time.
    assert all(b.completed == 0 for b in series.buckets[:2])
    assert max(b.completed for b in series.buckets) <= 10
    # Five users: never more than five in flight, five while the first wave sleeps.
    assert max(b.in_flight_max for b in series.buckets) == 5
    # By hand: the level at an instant is the requests sent and not yet answered; a bucket's
    # most is the level at its start or just after any send or answer inside it.
    spans = [(c.sent_ns, c.done_ns) for c in done]

    def level(t: float) -> int:
        return sum(1 for s, e in spans if s <= t < e)

    for i, bucket in enumerate(series.buckets):
        lo, hi = origin + i * 1e8, origin + (i + 1) * 1e8
        instants = [lo] + [t for s, e in spans for t in (s, e) if lo <= t < hi]
        assert bucket.in_flight_max == max(level(t) for t in instants), i
    first_send = min(s for s, _ in spans)
    assert series.buckets[int((first_send - origin) / 1e8) + 1].in_flight_max == 5
    # The buckets cover the run: the last one ends at or after the last answer.
    assert series.buckets[-1].end_ms >= max((c.done_ns - origin) / 1e6 for c in done)
    assert 0 < series.buckets[-1].seconds <= 0.1


def test_default_bucket_is_a_nice_size_within_the_cap(waves) -> None:
    series = time_series(waves)
    assert len(series.buckets) <= 60
    mantissa = series.bucket_ms / 10 ** math.floor(math.log10(series.bucket_ms))
    assert round(mantissa, 9) in (1, 2, 5)
    assert nice_bucket_ms(1000.0) == 20.0 and nice_bucket_ms(6000.0) == 100.0 and nice_bucket_ms(60_000.0) == 1000.0
    assert common_bucket_ms([waves, waves]) == series.bucket_ms


def test_histogram_counts_every_answer_once_on_log_bins(waves) -> None:
    hist = latency_histogram(waves, bins=12)
    latencies = sorted((c.done_ns - c.intended_ns) / 1e6 for c in waves.client if c.done_ns is not None)
    assert hist.total == 20
    assert hist.edges_ms[0] == latencies[0] and hist.edges_ms[-1] == latencies[-1]
    ratios = [b / a for a, b in zip(hist.edges_ms, hist.edges_ms[1:])]
    assert max(ratios) / min(ratios) < 1.0001  # log-spaced: every bin the same ratio wide
    for i, count in enumerate(hist.counts):
        lo, hi = hist.edges_ms[i], hist.edges_ms[i + 1]
        last = i == len(hist.counts) - 1
        assert count == sum(1 for v in latencies if lo <= v < hi or (last and v == hi))
    # Two runs on the same bins: each keeps its own total.
    both = common_histograms([waves, waves], bins=12)
    assert both[0].edges_ms == both[1].edges_ms == hist.edges_ms
    assert both[0].counts == both[1].counts == hist.counts
