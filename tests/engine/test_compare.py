"""Comparing real runs: every difference points the way the numbers do, and the sentence names
the winner, the margin and the loser's own finding."""

from __future__ import annotations

import pytest

from engine.compare import METRICS, CompareError, compare, difference

LOAD = {"concurrency": 10, "requests": 20, "params": {"delay": 0.2}}


@pytest.fixture(scope="module")
def sleeps(lab_runner):
    """sync-sleep, async-sleep and blocking-sleep at the same load, on a real server."""
    return [lab_runner.run(target, **LOAD) for target in ("sync-sleep", "async-sleep", "blocking-sleep")]


def _by_key(diffs):
    return {d.metric: d for d in diffs}


def test_blocking_sleep_is_worse_than_async_sleep_on_every_timing(sleeps) -> None:
    _, async_sleep, blocking = sleeps
    cmp = compare([async_sleep, blocking])
    diff = _by_key(cmp.differences[0])
    # 20 requests, 10 at a time, each blocking the loop 0.2 s: ~4 s against ~0.4 s.
    for key in ("wall", "p50", "p95", "p99", "max", "blocked"):
        assert diff[key].direction == "worse", diff[key].text
        assert diff[key].ratio is None or diff[key].ratio > 2, diff[key].text
    assert diff["throughput"].direction == "worse"
    assert diff["throughput"].value < diff["throughput"].base / 2
    assert diff["errors"].direction == "same"
    assert diff["views"].direction == "fewer"  # its views ran one at a time
    s = cmp.sentence
    assert s.startswith("async-sleep finished 20 requests in "), s
    assert "faster" in s and "blocking-sleep" in s
    assert "event loop was blocked" in s, s  # the why: the loser's own finding
    ratio = blocking.final_stats().wall_s / async_sleep.final_stats().wall_s
    assert f"{ratio:.1f}× faster" in s


def test_sync_against_async_sleep_every_direction_follows_the_numbers(sleeps) -> None:
    sync_sleep, async_sleep, _ = sleeps
    cmp = compare([sync_sleep, async_sleep])
    assert [r.label for r in cmp.runs] == ["sync-sleep", "async-sleep"]
    for metric, d in zip(METRICS, cmp.differences[0], strict=True):
        if d.direction == "same":
            assert d.base == d.value or max(d.base, d.value) / min(d.base, d.value) < 1.1
            continue
        lower = d.value < d.base
        if metric.better == "neutral":
            assert d.direction == ("fewer" if lower else "more")
        else:
            assert d.direction == ("better" if lower == (metric.better == "lower") else "worse"), d.text
    # Both sleep 0.2 s with every request at once (Django gives each sync view its own thread):
    # the walls are close, and the sentence says so or names the faster one correctly.
    walls = [r.stats.wall_s for r in cmp.runs]
    assert max(walls) < 3 * min(walls)
    faster = cmp.runs[walls.index(min(walls))].label
    assert "about the same" in cmp.sentence or cmp.sentence.startswith(f"{faster} finished 20 requests")


def test_three_runs_and_their_findings_side_by_side(sleeps) -> None:
    cmp = compare(sleeps)
    assert len(cmp.runs) == 3 and len(cmp.differences) == 2
    assert all(r.findings == r.stats.findings for r in cmp.runs)
    assert cmp.runs[2].findings[0]["id"] == "loop-blocked"
    assert "blocking-sleep" in cmp.sentence and not cmp.sentence.startswith("blocking-sleep")
    data = cmp.as_dict()
    assert data["sentence"] == cmp.sentence and [r["target"] for r in data["runs"]][2] == "blocking-sleep"


def test_words_and_ratios() -> None:
    p99 = next(m for m in METRICS if m.key == "p99")
    assert difference(p99, 2010.0, 520.0).text == "p99 2.01 s → 520 ms, 3.9× better"
    tput = next(m for m in METRICS if m.key == "throughput")
    assert difference(tput, 100.0, 50.0).text.endswith("2.0× worse")
    errors = next(m for m in METRICS if m.key == "errors")
    assert difference(errors, 0.0, 3.0).text == "errors 0 → 3, 3 more, worse"
    assert difference(errors, 0.0, 0.0).direction == "same"


def test_one_run_or_five_are_refused(sleeps) -> None:
    with pytest.raises(CompareError, match="2 to 4 runs, got 1"):
        compare(sleeps[:1])
    with pytest.raises(CompareError, match="got 5"):
        compare([*sleeps, *sleeps[:2]])
