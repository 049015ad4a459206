"""Findings: small rules over a run record, each saying one measured thing.

Like django-debug-toolbar's panels: every rule lives in a module of its own, registers
itself with ``@rule``, and has one interface, ``(facts) -> Finding | None``.  The verdict
is composed from what they found (``verdict.py``): the most important finding is the
headline, the rest are listed under it.  Adding a finding is one module here (listed in
``RULE_MODULES``) and one test.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .facts import Facts

# From least to most important.  The headline is the most important finding: a problem or
# a warning if there is one, else the run's primary measure, else the highest severity.
SEVERITIES = ("info", "notice", "warning", "problem")

Evidence = dict[str, float | int | str]


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    sentence: str  # one plain sentence, no trailing full stop; numbers in it come from ``evidence``
    evidence: Evidence = field(default_factory=dict)
    weight: float = 0.0  # orders findings of the same severity (bigger first); not shown
    primary: bool = False  # the run's main measure (how concurrent, kept up or not): the headline
    # when there is no warning or problem, ahead of notices

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "sentence": self.sentence, "evidence": dict(self.evidence)}

    @property
    def rank(self) -> tuple[int, bool, int, float]:
        level = SEVERITIES.index(self.severity)
        alarming = level if level >= SEVERITIES.index("warning") else -1
        return (alarming, self.primary, level, self.weight)


Rule = Callable[[Facts], "Finding | list[Finding] | None"]

RULE_MODULES = (
    "failures",
    "incomplete",
    "loop_blocked",
    "gil",
    "concurrency",
    "pool_queueing",
    "sql_serialised",
    "write_lock",
    "connections",
    "threads_started",
    "thread_hops",
    "crossing_cost",
    "open_loop",
    "cancelled",
    "streaming",
    "awaits",
    "saturation",
    "loop_busy",
    "per_demo",
    "server",
)

_rules: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register a rule under ``name`` (the module's job, usually the id of what it finds)."""

    def register(fn: Rule) -> Rule:
        _rules[name] = fn
        return fn

    return register


def all_rules() -> dict[str, Rule]:
    for module in RULE_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(_rules)


def find(facts: Facts) -> list[Finding]:
    """Every rule's findings, most important first."""
    found: list[Finding] = []
    for fn in all_rules().values():
        result = fn(facts)
        if result is None:
            continue
        found.extend(result if isinstance(result, list) else [result])
    found.sort(key=lambda f: f.rank, reverse=True)
    return found


__all__ = ["SEVERITIES", "Evidence", "Facts", "Finding", "all_rules", "find", "rule"]
