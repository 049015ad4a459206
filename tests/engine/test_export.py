"""Exports: the trace opens in Perfetto (Trace Event Format), the CSV and JSON hold every request."""

from __future__ import annotations

import csv
import json

import pytest

from engine.export import write_chrome_trace, write_csv, write_json


@pytest.fixture(scope="module")
def record(lab_runner):
    return lab_runner.run("sync-sleep", concurrency=4, requests=8, params={"delay": 0.05})


def test_chrome_trace_has_what_perfetto_needs(record, tmp_path):
    path = write_chrome_trace(record, tmp_path / "trace.json")
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    assert events
    for event in events:
        assert event["ph"] in {"X", "M", "C"}
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event["name"], str) and event["name"]
        if event["ph"] == "X":
            assert isinstance(event["ts"], (int, float)) and isinstance(event["dur"], (int, float))
            assert event["dur"] >= 0 and event["ts"] >= 0
        if event["ph"] == "C":
            assert isinstance(event["ts"], (int, float))
            assert all(isinstance(v, (int, float)) for v in event["args"].values())
        if event["ph"] == "M":
            assert event["name"] in {"thread_name", "process_name"} and event["args"]["name"]
    complete = [e for e in events if e["ph"] == "X"]
    request_lanes = {e["tid"] for e in complete if e["pid"] == 1}
    thread_lanes = {e["tid"] for e in complete if e["pid"] == 2}
    assert len(request_lanes) >= 8
    assert len(thread_lanes) >= 5  # the loop thread plus one sync thread per request
    named = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {(e["pid"], e["tid"]) for e in complete} <= named
    assert any(e["ph"] == "C" for e in events)
    # Durations are µs: a 50 ms sleep appears as about 50,000.
    sleeps = [e for e in complete if e["name"] == "blocking in a thread" and e["pid"] == 1]
    assert all(45_000 <= e["dur"] <= 500_000 for e in sleeps)


def test_csv_has_one_row_per_request(record, tmp_path):
    rows = list(csv.DictReader(write_csv(record, tmp_path / "r.csv").open()))
    assert len(rows) == 8
    assert {r["status"] for r in rows} == {"200"}
    assert all(float(r["latency_ms"]) >= 50 for r in rows)


def test_record_json_round_trips(record, tmp_path):
    doc = json.loads(write_json(record, tmp_path / "r.json").read_text())
    assert len(doc["client"]) == 8 and len(doc["server"]) >= 8
    assert doc["stats"]["requests"] == 8
    assert doc["stats"]["verdict"]
