"""Scenarios: several demos mixed in one run, each with its own count and start offset."""

from __future__ import annotations

from dataclasses import dataclass

from embedded_site.demos.catalogue import Check, compared, evidence, stat

from .config import Stream


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    lesson: str
    streams: tuple[Stream, ...]
    checks: tuple[Check, ...] = ()  # what its run must show for the lesson to be true


SCENARIOS: dict[str, Scenario] = {
    s.id: s
    for s in (
        Scenario(
            "one-blocking-call",
            "100 × async-sleep in two waves of 50, plus one blocking-sleep at 200 ms",
            "Fifty well-behaved async requests share the loop happily, until a single view calls "
            "time.sleep(1). Every request that was waiting at that moment waits a whole second "
            "more: one blocking call spoils the batch for everybody.",
            (
                Stream("async-sleep", {"delay": 0.5}, concurrency=50, requests=50),
                Stream("async-sleep", {"delay": 0.5}, concurrency=50, requests=50, start_s=0.1),
                Stream("blocking-sleep", {"delay": 1.0}, concurrency=1, requests=1, start_s=0.2),
            ),
            checks=(
                evidence("loop-blocked", "culprit", "contains", "in blocking_sleep", "one stall, in blocking_sleep"),
                evidence("loop-blocked", "longest_s", ">=", 0.9, "the loop held for the whole second at once"),
                evidence("per-demo", "async-sleep_p50_ms", ">=", 900, "async requests waited about a second more"),
            ),
        ),
        Scenario(
            "sync-beside-async",
            "20 × sync-sleep beside 20 × async-sleep",
            "Both kinds of view overlap, but differently: the async ones share the loop thread, "
            "the sync ones get a thread each. The threads view shows one lane per sync request.",
            (
                Stream("async-sleep", {"delay": 1.0}, concurrency=20, requests=20),
                Stream("sync-sleep", {"delay": 1.0}, concurrency=20, requests=20),
            ),
            checks=(
                evidence("views-at-once", "at_once_ratio", ">=", 0.9, "(nearly) all 40 views overlap"),
                stat("distinct_server_threads", ">=", 20, "the sync ones got a thread each (≥ 20 threads)"),
            ),
        ),
        Scenario(
            "fanout-race",
            "Sequential fan-out against gathered fan-out",
            "Both views call the same slow upstream five times. The sequential one pays five "
            "round trips, one after another; the one using asyncio.gather overlaps them, so it "
            "pays less than their sum (the upstream is this same server, so more than one).",
            (
                Stream("fanout-sequential", {}, concurrency=5, requests=5),
                Stream("fanout-gather", {}, concurrency=5, requests=5),
            ),
            checks=(
                evidence("per-demo", "fanout-sequential_p50_ms", ">=", 1000, "sequential pays five round trips"),
                compared(
                    "per-demo",
                    "fanout-gather_p50_ms",
                    "<",
                    "fanout-sequential_p50_ms",
                    "gathered is faster than sequential",
                ),
                evidence("awaits", "overlap_mean", ">=", 2, "the gathered calls overlapped"),
            ),
        ),
        Scenario(
            "open-loop-stall",
            "Open loop at 100 req/s with a 1 s stall in the middle",
            "Requests keep arriving at 100 per second while one blocking call stalls the loop for "
            "a second. Because latency is measured from when each request was due, the hundred "
            "requests that arrived during the stall show it, instead of a client politely "
            "waiting and hiding it (coordinated omission).",
            (
                Stream("hello", {}, concurrency=50, rate=100.0, duration_s=3.0),
                Stream("blocking-sleep", {"delay": 1.0}, concurrency=1, requests=1, start_s=1.0),
            ),
            checks=(
                evidence("loop-blocked", "culprit", "contains", "in blocking_sleep", "the stall is blocking_sleep"),
                evidence("open-loop-fell-behind", "late", ">=", 50, "the requests due during the stall show it"),
            ),
        ),
    )
}
