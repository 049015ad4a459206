"""Check a demo's claims (``catalogue.Check``) against a run's stats and findings.

The result keeps the measured value beside the verdict, so the window can say
"✓ loop blocked < 10 % of the run (measured 2 %)" and a test can say what was off.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from embedded_site.demos.catalogue import Check

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class Outcome:
    check: Check
    ok: bool
    measured: str  # what was found, in words or as the number compared

    @property
    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.check.text} ({self.measured})"


def _stat(stats: Any, key: str) -> Any:
    value: Any = stats
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, float):
        # Three significant digits, never in exponent form ("1,150", not "1.15e+03").
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def check(claim: Check, stats: Any) -> Outcome:
    findings = {f["id"]: f for f in stats.findings}
    if claim.op == "lacks" and claim.finding is not None and claim.finding not in findings:
        return Outcome(claim, True, f"no {claim.finding} finding")
    if claim.finding is not None and claim.op in ("present", "absent"):
        there = claim.finding in findings
        ok = there if claim.op == "present" else not there
        measured = findings[claim.finding]["sentence"] if there else f"no {claim.finding} finding"
        return Outcome(claim, ok, measured)
    if claim.finding is not None:
        if claim.finding not in findings:
            return Outcome(claim, False, f"no {claim.finding} finding")
        value = findings[claim.finding]["evidence"].get(claim.key)
    else:
        value = _stat(stats, claim.key or "")
    if value is None:
        return Outcome(claim, False, f"{claim.key} not measured")
    if claim.op in ("contains", "lacks"):
        there = str(claim.bound) in str(value)
        return Outcome(claim, there if claim.op == "contains" else not there, _shown(value))
    bound, against = claim.bound, ""
    if claim.other is not None:  # another number of the same finding (or of the stats)
        key = claim.other
        other = findings[claim.finding]["evidence"].get(key) if claim.finding else _stat(stats, key)
        if other is None:
            return Outcome(claim, False, f"{key} not measured")
        bound, against = other, f" against {_shown(other)}"
    try:
        ok = bool(_COMPARE[claim.op](value, bound))
    except (KeyError, TypeError):
        return Outcome(claim, False, f"cannot compare {_shown(value)} {claim.op} {bound}")
    return Outcome(claim, ok, f"measured {_shown(value)}{against}")


def check_all(claims: Iterable[Check], stats: Any) -> list[Outcome]:
    return [check(c, stats) for c in claims]


def at_defaults(config: Any) -> bool:
    """Whether a run used its target's default settings (load and parameters), the run its
    claims are made for: with other settings a check such as "≥ 21 queries for 20 rows" can
    fail because of them, not because the lesson is wrong."""
    from ..config import ConfigError
    from ..plan import catalogue, make_config

    try:
        default = make_config(config.target)
    except (ConfigError, KeyError, ValueError):
        return False

    demos = catalogue()

    def value(v: Any) -> Any:
        try:
            return float(v)  # 20, 20.0 and "20" are one setting
        except (TypeError, ValueError):
            return str(v)

    def params(s: Any) -> dict[str, Any]:
        demo = demos.get(s.demo)
        given = {p.name: p.default for p in demo.params} if demo is not None else {}
        return {k: value(v) for k, v in (given | dict(s.params)).items()}

    def shape(c: Any) -> list[tuple[Any, ...]]:
        return [(s.demo, params(s), s.concurrency, s.requests, s.duration_s, s.rate) for s in c.streams]

    return shape(config) == shape(default)


def claims_for(target: str) -> tuple[Check, ...]:
    """The checks a demo or scenario declares (empty for an unknown target)."""
    from ..plan import catalogue
    from ..scenarios import SCENARIOS

    if target in SCENARIOS:
        return SCENARIOS[target].checks
    demo = catalogue().get(target)
    return demo.checks if demo is not None else ()
