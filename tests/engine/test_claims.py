"""Every lesson is a claim: each demo and scenario, run with its defaults through the real
lab, must measure what its ``checks`` say (the same checks the window shows after a run)."""

from __future__ import annotations

import pytest

from embedded_site.bootstrap import setup_django
from engine.findings.claims import check_all, claims_for
from engine.plan import catalogue
from engine.scenarios import SCENARIOS
from engine.stats import compute

setup_django()  # the catalogue imports the demo views, and so the models
TARGETS = sorted(catalogue()) + sorted(SCENARIOS)


def test_every_demo_and_scenario_declares_checks():
    bare = [t for t in TARGETS if not claims_for(t)]
    assert not bare, f"no checks declared for {bare}"


@pytest.mark.parametrize("target", TARGETS)
def test_the_default_run_shows_what_the_lesson_says(lab_runner, target):
    demo = catalogue().get(target)
    if demo is not None and demo.extra.get("needs") == "postgresql":
        pytest.skip(f"{target} needs PostgreSQL: its claims are checked in tests/engine/test_postgres.py")
    stats = compute(lab_runner.run(target))
    failed = [o.line for o in check_all(claims_for(target), stats) if not o.ok]
    assert not failed, f"{target}: {stats.verdict}\n" + "\n".join(failed)
