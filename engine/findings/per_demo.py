"""A run that mixes demos (a scenario): each demo's latency beside the others'."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


@rule("per-demo")
def per_demo(facts: Facts) -> Finding | None:
    by_demo = facts.stats.per_demo
    if not by_demo:
        return None
    evidence = {f"{demo}_p50_ms": d["p50_ms"] for demo, d in by_demo.items()}
    return Finding(
        "per-demo",
        "info",
        "; ".join(f"{demo} p50 {d['p50_ms']:.0f} ms" for demo, d in by_demo.items()),
        evidence,
        weight=2,
    )
