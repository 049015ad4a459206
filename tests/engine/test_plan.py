"""Run plans: what is checked before a run, and what a run is predicted to do to the loop."""

from __future__ import annotations

import pytest

from engine.config import ConfigError
from engine.plan import make_config, predicted_loop_block_s


@pytest.fixture(autouse=True)
def _site(lab_runner):  # the catalogue needs Django set up
    return lab_runner


def test_blocking_demos_predict_their_stall():
    assert predicted_loop_block_s(make_config("blocking-sleep", concurrency=5, params={"delay": 0.5})) == 2.5
    assert predicted_loop_block_s(make_config("async-sleep", concurrency=50)) == 0
    assert predicted_loop_block_s(make_config("one-blocking-call")) == 1.0
    timed = make_config("blocking-sleep", concurrency=2, duration_s=3, params={"delay": 1})
    assert predicted_loop_block_s(timed) == 3.0


def test_defaults_and_refusals():
    config = make_config("async-sleep", concurrency=7)
    assert config.streams[0].requests == 7 and config.total_requests == 7
    with pytest.raises(ConfigError, match="delay must be between"):
        make_config("async-sleep", params={"delay": "-1"})
    with pytest.raises(ConfigError, match="sets its own parameters"):
        make_config("one-blocking-call", params={"delay": 1})
