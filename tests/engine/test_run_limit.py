"""Every run ends by the lab's time limit, even one whose length nobody could plan.

A closed loop counted in requests has no schedule to check before it starts, so the lab
itself stops it at ``run_time_limit_s`` and says so; here the limit is lowered to one
second on the real lab (real server, real load driver), so the proof takes seconds.
"""

from __future__ import annotations

import re

from engine.lab import RUN_TIME_LIMIT_S
from engine.plan import make_config


def test_a_run_past_the_time_limit_is_stopped_and_incomplete(lab_runner):
    lab = lab_runner.lab
    lab.run_time_limit_s = 1.0
    try:
        config = make_config("sync-sleep", concurrency=1, requests=20, params={"delay": 0.3})
        record = lab_runner.loop.run_until_complete(lab.run(config))
    finally:
        lab.run_time_limit_s = RUN_TIME_LIMIT_S
    match = re.fullmatch(r"the run reached the 1 s limit after (\d+) of 20 requests", record.incomplete or "")
    assert match, record.incomplete
    assert 1 <= int(match.group(1)) <= 4  # 0.3 s each, one at a time, for one second
    assert record.finished and f"incomplete: {record.incomplete}" in record.notes
    wall_s = (record.finished_ns - record.started_ns) / 1e9
    assert wall_s < 15, "the limit must end the run, not wait for the plan"
    assert not lab.running
