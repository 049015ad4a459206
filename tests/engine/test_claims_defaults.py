"""A demo's claims are made for its default run: which runs are that run."""

from __future__ import annotations

import pytest

from engine.findings.claims import at_defaults
from engine.plan import make_config


@pytest.fixture(autouse=True)
def _site(lab_runner):  # the catalogue needs Django set up
    return lab_runner


def test_a_demo_at_its_defaults_is_the_run_its_claims_are_made_for() -> None:
    assert at_defaults(make_config("orm-n-plus-one"))
    assert at_defaults(make_config("one-blocking-call"))  # a scenario sets its own streams


def test_other_parameters_or_load_are_not_the_default_run() -> None:
    assert at_defaults(make_config("orm-n-plus-one", params={"rows": 20}))  # the default, given
    assert not at_defaults(make_config("orm-n-plus-one", params={"rows": 8}))
    assert not at_defaults(make_config("orm-n-plus-one", concurrency=3))
    assert not at_defaults(make_config("hello", rate=50.0, duration_s=2))
