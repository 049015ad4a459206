"""Two to four runs side by side: their stats, the differences in words and ratios, their findings,
and one sentence saying which did better, by how much and why — all computed from the records.

The first run is the baseline every other run is measured against ("p99 2.01 s → 0.52 s,
3.9× better"). Each metric knows which way is better (lower latency, higher throughput, fewer
errors); a metric with no better side (threads used, requests in flight) says only "more" or
"fewer". A difference under ``SAME_WITHIN`` is called "about the same": two runs of the same
demo differ by that much from noise alone on a busy machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .phases import NO_LOOP
from .record import RunRecord
from .stats import RunStats

LOWER, HIGHER, NEUTRAL = "lower", "higher", "neutral"
# Findings that describe how a run was set up (its server), never why it did better or worse.
NOT_A_CAUSE = frozenset({"server"})
SAME_WITHIN = 0.10  # a ratio closer to 1 than this is "about the same"
MIN_RUNS, MAX_RUNS = 2, 4


class CompareError(ValueError):
    """Runs that cannot be compared (too few, too many); the message is one line for the user."""


def fmt_duration_ms(ms: float) -> str:
    """A duration as people read it: 2.01 s, 520 ms, 3.4 ms."""
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    better: str  # LOWER, HIGHER or NEUTRAL
    value: Callable[[RunStats], float]
    text: Callable[[float], str]
    count: bool = False  # a count (errors): a zero on one side is "none", the difference in units


METRICS: tuple[Metric, ...] = (
    Metric("wall", "wall time", LOWER, lambda s: s.wall_s * 1000, fmt_duration_ms),
    Metric("throughput", "throughput", HIGHER, lambda s: s.throughput_rps, lambda v: f"{v:,.1f} req/s"),
    Metric("p50", "p50", LOWER, lambda s: s.latency_ms["p50"], fmt_duration_ms),
    Metric("p95", "p95", LOWER, lambda s: s.latency_ms["p95"], fmt_duration_ms),
    Metric("p99", "p99", LOWER, lambda s: s.latency_ms["p99"], fmt_duration_ms),
    Metric("max", "slowest", LOWER, lambda s: s.latency_ms["max"], fmt_duration_ms),
    Metric("errors", "errors", LOWER, lambda s: float(s.errors), lambda v: f"{v:.0f}", count=True),
    Metric("blocked", "loop blocked", LOWER, lambda s: s.blocked_ms, fmt_duration_ms),
    Metric("lag", "loop lag p99", LOWER, lambda s: s.loop_lag_ms["p99"], fmt_duration_ms),
    Metric("in_flight", "max in flight", NEUTRAL, lambda s: float(s.max_in_flight), lambda v: f"{v:.0f}", count=True),
    Metric("views", "views at once (mean)", NEUTRAL, lambda s: s.views_at_once_mean, lambda v: f"{v:.1f}"),
    Metric(
        "threads",
        "server threads",
        NEUTRAL,
        lambda s: float(s.distinct_server_threads),
        lambda v: f"{v:.0f}",
        count=True,
    ),
    # The server's CPU per answered request (``RunStats.cpu_ms_per_request``): shown only when
    # every run has it (a record read from an older file may not).
    Metric("cpu", "CPU per request", LOWER, lambda s: float(s.cpu_ms_per_request or 0.0), lambda v: f"{v:.2f} ms"),
)


@dataclass(frozen=True)
class Difference:
    """One metric of one run against the baseline."""

    metric: str
    label: str
    base: float
    value: float
    direction: str  # "better", "worse", "same"; for a NEUTRAL metric "more", "fewer", "same"; "n/a": not comparable
    ratio: float | None  # how many times better/worse (≥ 1); None when one side is zero
    text: str  # "p99 2.01 s → 0.52 s, 3.9× better"


@dataclass
class RunColumn:
    label: str
    record: RunRecord
    stats: RunStats
    values: dict[str, float]
    texts: dict[str, str]
    findings: list[dict[str, Any]]


@dataclass
class Comparison:
    runs: list[RunColumn]
    differences: list[list[Difference]]  # per run after the first: against the first
    sentence: str
    metrics: tuple[Metric, ...] = field(default=METRICS, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """What ``main.py compare --json`` prints."""
        return {
            "sentence": self.sentence,
            "runs": [
                {
                    "label": r.label,
                    "target": r.record.config.target,
                    "loop": r.record.loop,
                    "requests": r.stats.requests,
                    "values": r.values,
                    "texts": r.texts,
                    "verdict": r.stats.verdict,
                    "findings": r.findings,
                }
                for r in self.runs
            ],
            "differences": [
                [
                    {
                        "metric": d.metric,
                        "base": d.base,
                        "value": d.value,
                        "direction": d.direction,
                        "ratio": d.ratio,
                        "text": d.text,
                    }
                    for d in diffs
                ]
                for diffs in self.differences
            ],
        }


def server_name(record: RunRecord) -> str:
    """The server that served ``record``, with its workers and threads when it had several."""
    server = record.extra.get("server") or {}
    name = str(server.get("name", "embedded"))
    workers, threads = int(server.get("workers", 1)), int(server.get("threads", 1))
    if threads > 1:
        return f"{name} {workers}×{threads}"
    return f"{name} ×{workers}" if workers > 1 else name


def labels_for(records: list[RunRecord]) -> list[str]:
    """Each run's name in the comparison: its demo; with its server when the servers differ
    (a deployment comparison); its loop too when the demos are the same and the loops differ;
    a number when even that does not tell them apart."""
    targets = [r.config.target for r in records]
    servers = [server_name(r) for r in records]
    if len(set(servers)) > 1:
        targets = [f"{t} on {s}" for t, s in zip(targets, servers, strict=True)]
    if len(set(targets)) == len(targets):
        return targets
    named = [f"{t} ({r.loop})" for t, r in zip(targets, records, strict=True)]
    if len(set(named)) == len(named):
        return named
    return [f"{t} #{i + 1}" for i, t in enumerate(targets)]


def metrics_for(stats: list[RunStats]) -> tuple[Metric, ...]:
    """The metrics every run has: CPU per request only when each run's was measured."""
    measured = all(s.cpu_ms_per_request is not None for s in stats)
    return tuple(m for m in METRICS if m.key != "cpu" or measured)


def difference(metric: Metric, base: float, value: float) -> Difference:
    """``value`` against ``base`` for one metric, in words."""
    head = f"{metric.label} {metric.text(base)} → {metric.text(value)}"
    if base == value or (base and value and max(base, value) / min(base, value) < 1 + SAME_WITHIN):
        return Difference(metric.key, metric.label, base, value, "same", None, f"{head}, about the same")
    up = value > base
    if metric.better == NEUTRAL:
        direction = "more" if up else "fewer"
    else:
        direction = "better" if up == (metric.better == HIGHER) else "worse"
    if base <= 0 or value <= 0:
        if metric.count:
            words = f"{abs(value - base):.0f} {'more' if up else 'fewer'}"
        else:
            words = "from none" if base <= 0 else "to none"
        tail = words if metric.better == NEUTRAL else f"{words}, {direction}"
        return Difference(metric.key, metric.label, base, value, direction, None, f"{head}, {tail}")
    ratio = max(base, value) / min(base, value)
    tail = f"{ratio:.1f}× {direction}"
    return Difference(metric.key, metric.label, base, value, direction, round(ratio, 3), f"{head}, {tail}")


# The metrics of the event loop: a run served without one (a WSGI server) has no value for them.
LOOP_METRICS = ("blocked", "lag")
NO_LOOP_TEXT = "no event loop"


def has_loop(record: RunRecord) -> bool:
    """False for a run a WSGI server served (``NO_LOOP``): nothing there could block a loop."""
    return record.loop_thread_id != NO_LOOP


def _difference(metric: Metric, base: RunColumn, col: RunColumn) -> Difference:
    if metric.key in LOOP_METRICS and not (has_loop(base.record) and has_loop(col.record)):
        b, v = base.values[metric.key], col.values[metric.key]
        head = f"{metric.label} {base.texts[metric.key]} → {col.texts[metric.key]}"
        return Difference(metric.key, metric.label, b, v, "n/a", None, f"{head}, not comparable")
    return difference(metric, base.values[metric.key], col.values[metric.key])


def compare(records: list[RunRecord], stats: list[RunStats] | None = None) -> Comparison:
    """Compare 2–4 finished runs; the first is the baseline. ``stats``: their ``RunStats`` when
    already computed (else each record's ``final_stats()``)."""
    if not MIN_RUNS <= len(records) <= MAX_RUNS:
        raise CompareError(f"a comparison takes {MIN_RUNS} to {MAX_RUNS} runs, got {len(records)}")
    all_stats = stats if stats is not None else [r.final_stats() for r in records]
    metrics = metrics_for(all_stats)
    columns = []
    for label, record, st in zip(labels_for(records), records, all_stats, strict=True):
        values = {m.key: float(m.value(st)) for m in metrics}
        texts = {m.key: m.text(values[m.key]) for m in metrics}
        if not has_loop(record):  # a WSGI server: its zero loop numbers measured nothing
            texts.update({key: NO_LOOP_TEXT for key in LOOP_METRICS if key in texts})
        columns.append(RunColumn(label, record, st, values, texts, list(st.findings)))
    base = columns[0]
    diffs = [[_difference(m, base, col) for m in metrics] for col in columns[1:]]
    return Comparison(columns, diffs, sentence(columns), metrics)


def _primary(columns: list[RunColumn]) -> Metric:
    """What decides which run did better: the wall time when every run sent the same requests in
    a closed loop (it is then the time to do the same work), else the p99 latency (an open
    loop's length is set by its schedule, and the tail is what its users feel)."""
    closed = all(s.rate is None for c in columns for s in c.record.config.streams)
    same_work = len({c.stats.requests for c in columns}) == 1
    return METRICS[0] if closed and same_work else next(m for m in METRICS if m.key == "p99")


def _why(winner: RunColumn, loser: RunColumn) -> str:
    """The loser's most important finding that the winner does not share ('' if none), looked
    for in this order: a problem or warning the winner did not have; a description (an "info"
    finding of a rule both fired) that says something else ("ran one after another" against
    "overlapped") or whose first number is at least twice the winner's ("21 SQL queries per
    request" against 2); any other finding the winner did not have (a notice)."""
    theirs = {(f["id"], f["severity"]): f for f in winner.findings}
    loser_findings = [f for f in loser.findings if f["id"] not in NOT_A_CAUSE]
    alarming = ("problem", "warning")
    for f in loser_findings:  # most important first
        if f["severity"] in alarming and (f["id"], f["severity"]) not in theirs:
            return str(f["sentence"])
    for f in loser_findings:
        same = theirs.get((f["id"], f["severity"]))
        if f["severity"] == "info" and same is not None and _differs(f["sentence"], same["sentence"]):
            return str(f["sentence"])
    for f in loser_findings:
        if (f["id"], f["severity"]) not in theirs:
            return str(f["sentence"])
    return ""


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _differs(mine: str, theirs: str) -> bool:
    """Two sentences of one rule say different things: other words once the numbers are taken
    out, or a first number at least twice the other's."""
    if NUMBER.sub("#", mine) != NUMBER.sub("#", theirs):
        return True
    a, b = NUMBER.search(mine), NUMBER.search(theirs)
    if a is None or b is None:
        return False
    x, y = float(a.group()), float(b.group())
    return min(x, y) > 0 and max(x, y) / min(x, y) >= 2 or (min(x, y) == 0 < max(x, y))


def _ok(col: RunColumn) -> int:
    return col.stats.completed - col.stats.errors - col.stats.cancelled


def sentence(columns: list[RunColumn]) -> str:
    """One sentence from the numbers: which run did better, by how much, and why (the worst
    run's own finding that the best does not share). Fewer failed requests wins first: a run
    whose requests failed fast has not done the work."""
    if len({c.stats.errors for c in columns}) > 1:
        ranked = sorted(columns, key=lambda c: c.stats.errors)
        best, worst = ranked[0], ranked[-1]
        others = " and ".join(f"{c.label} {_ok(c)} of {c.stats.requests}" for c in ranked[1:])
        lead = f"{best.label} answered {_ok(best)} of {best.stats.requests} requests without an error vs {others}"
        cpu = _cpu_clause(best, worst, named=True)
        if cpu:
            lead += f"; {cpu}"
        why = _why(best, worst)
        return lead + (f"; {worst.label}: {why}." if why else ".")
    metric = _primary(columns)
    ranked = sorted(columns, key=lambda c: c.values[metric.key])
    b = ranked[0].values[metric.key]
    # Runs within SAME_WITHIN of the best share the lead: noise cannot tell them apart.
    lead_runs = [c for c in ranked if c.values[metric.key] <= b * (1 + SAME_WITHIN) or c.values[metric.key] == b]
    rest = ranked[len(lead_runs) :]
    names = " and ".join(c.label for c in lead_runs)
    what = "finished in" if metric.key == "wall" else "had a p99 of"
    if not rest:
        texts = sorted({metric.text(c.values[metric.key]) for c in columns})
        spread = f"all {texts[0]}" if len(texts) == 1 else f"{texts[0]} to {texts[-1]}"
        by_cpu = sorted(columns, key=lambda c: c.stats.cpu_ms_per_request or 0.0)
        cpu = _cpu_clause(by_cpu[0], by_cpu[-1], named=True)
        return f"{names} {what} about the same time ({spread}, within {SAME_WITHIN:.0%})" + (
            f"; {cpu}." if cpu else "."
        )
    top = max(c.values[metric.key] for c in lead_runs)
    worst = ranked[-1]
    w = worst.values[metric.key]
    head = " and ".join(metric.text(c.values[metric.key]) for c in lead_runs)
    others = " and ".join(f"{c.label} {metric.text(c.values[metric.key])}" for c in rest)
    ratio = f"{w / top:.1f}× " if top > 0 else ""
    if metric.key == "wall":
        lead = f"{names} finished {lead_runs[0].stats.requests} requests in {head} vs {others}: {ratio}faster"
    else:
        lead = f"{names} had the lowest p99, {head} vs {others}: {ratio}better"
    cpu = _cpu_clause(lead_runs[0], worst)
    if cpu:
        lead += (", and " if " less " in cpu else ", but ") + cpu
    why = _why(lead_runs[0], worst)
    return lead + (f"; {worst.label}: {why}." if why else ".")


def _cpu_clause(a: RunColumn, b: RunColumn, named: bool = False) -> str:
    """How ``a``'s server CPU per request compares with ``b``'s, "used 2.3× less CPU per request
    (0.41 ms vs 0.95 ms)" ("a used … than b …" when ``named``); '' when either was not measured
    or they are within ``SAME_WITHIN``. A child server's CPU is its processes', the embedded
    server's the lab's own process during the run (``RunStats.cpu_ms_per_request``)."""
    x, y = a.stats.cpu_ms_per_request, b.stats.cpu_ms_per_request
    if x is None or y is None or x <= 0 or y <= 0:
        return ""
    ratio = max(x, y) / min(x, y)
    if ratio < 1 + SAME_WITHIN:
        return ""
    word = "less" if x < y else "more"
    if named:
        return f"{a.label} used {ratio:.1f}× {word} CPU per request than {b.label} ({x:.2f} ms vs {y:.2f} ms)"
    return f"used {ratio:.1f}× {word} CPU per request ({x:.2f} ms vs {y:.2f} ms)"
