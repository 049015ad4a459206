"""A Chrome trace this app exported opens again: the record read back exports the same trace."""

from __future__ import annotations

import json

import pytest

from engine.exports.chrome_trace import write_chrome_trace
from engine.runfile import RunFileError, load_run
from engine.stats import compute
from engine.trace_import import MISSING


@pytest.mark.parametrize(
    ("target", "settings"),
    [
        ("one-blocking-call", {}),  # a stall with its culprit, lag over the threshold
        ("sync-to-async-threadpool", {"concurrency": 10, "requests": 10, "params": {"delay": 0.05}}),  # pool lanes
        ("fanout-gather", {}),  # upstream calls: server-only requests of one path, overlap lanes
    ],
)
def test_a_trace_round_trip_keeps_what_the_trace_holds(lab_runner, tmp_path, target, settings):
    record = lab_runner.run(target, **settings)
    first = write_chrome_trace(record, tmp_path / "a-trace.json")
    loaded = load_run(first)
    again = json.loads(write_chrome_trace(loaded, tmp_path / "b-trace.json").read_text())
    original = json.loads(first.read_text())
    assert again["traceEvents"] == original["traceEvents"]
    assert loaded.past.kind == "trace" and loaded.past.from_trace and loaded.past.missing == MISSING
    assert loaded.past.saved_stats["verdict"] == compute(record).verdict
    assert any("read from a Chrome trace" in n for n in loaded.notes)
    st, st2 = compute(record), compute(loaded)
    assert st2.requests == st.requests and st2.completed == st.completed and st2.statuses == st.statuses
    assert st2.blocked_ms == pytest.approx(st.blocked_ms, abs=0.01)
    assert st2.latency_ms == pytest.approx(st.latency_ms, abs=0.01)
    assert len(loaded.stalls) == sum(1 for e in original["traceEvents"] if e.get("cat") == "stall")


def test_a_trace_from_elsewhere_is_one_line(tmp_path):
    path = tmp_path / "other-trace.json"
    path.write_text(json.dumps({"traceEvents": [{"ph": "X", "name": "x", "ts": 0, "dur": 1, "pid": 1, "tid": 1}]}))
    with pytest.raises(RunFileError, match="not one exported by Django Async Explorer"):
        load_run(path)
    path.write_text(json.dumps({"traceEvents": [{"ph": "X", "cat": "phase", "ts": 0}], "otherData": {"target": "x"}}))
    with pytest.raises(RunFileError, match="damaged trace") as caught:
        load_run(path)
    assert "\n" not in str(caught.value)
