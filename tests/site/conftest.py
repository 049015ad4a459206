"""Fixture for the site tests: run a demo through the real server and get its raw record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.record import RunRecord


@pytest.fixture
def run_demo(lab_runner: Any) -> Callable[..., RunRecord]:
    """Run ``demo`` ``requests`` times (``concurrency`` at once); check every request finished."""

    def run(demo: str, *, concurrency: int = 1, requests: int | None = None, **params: Any) -> RunRecord:
        count = requests or concurrency
        record = lab_runner.run(demo, concurrency=concurrency, requests=count, params=params)
        assert len(record.client) == count
        assert all(c.finished for c in record.client)
        return record

    return run
