"""Exports: the trace opens in Perfetto (Trace Event Format), the CSV and JSON hold every request."""

from __future__ import annotations

import csv
import json

import pytest

from engine.exports.chrome_trace import REQUESTS_PID, THREADS_PID, nest_into_lanes, write_chrome_trace
from engine.exports.requests_csv import write_csv
from engine.exports.run_json import write_json
from engine.phases import BLOCKING, SPAN_PHASE, Phase
from engine.stats import compute
from tests.engine.test_cli import cli


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
        if event["ph"] == "M" and event["name"] == "process_sort_index":
            assert isinstance(event["args"]["sort_index"], int)
        elif event["ph"] == "M":
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


# -- Perfetto imports the trace whole --------------------------------------------------------


def _ns(us: float) -> int:
    """Perfetto's reading of a µs timestamp: llround(ts * 1000)."""
    return round(us * 1000)


def overlapping_events(doc: dict) -> list[str]:
    """Complete events that Perfetto would drop: on each (pid, tid) lane, in file order at
    equal timestamps (its sort is stable), an event that starts inside an open one must
    end inside it too."""
    lanes: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for event in doc["traceEvents"]:
        if event["ph"] == "X":
            start = _ns(event["ts"])
            lanes.setdefault((event["pid"], event["tid"]), []).append((start, start + _ns(event["dur"]), event["name"]))
    bad = []
    for lane, events in lanes.items():
        events.sort(key=lambda e: e[0])  # stable, like Perfetto's sorter
        open_ends: list[tuple[int, str]] = []
        for start, end, name in events:
            while open_ends and open_ends[-1][0] <= start:
                open_ends.pop()
            if open_ends and end > open_ends[-1][0]:
                bad.append(f"{lane}: {name} [{start}, {end}] overlaps {open_ends[-1][1]} ending {open_ends[-1][0]}")
                continue
            open_ends.append((end, name))
    return bad


def lane_names(doc: dict) -> dict[tuple[int, int], str]:
    return {(e["pid"], e["tid"]): e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "thread_name"}


def assert_perfetto_keeps_everything(doc: dict, record) -> None:
    assert overlapping_events(doc) == []
    names = lane_names(doc)
    complete = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert {(e["pid"], e["tid"]) for e in complete} <= set(names)
    # A lane whose tid equals its pid is that process's "main thread": only the event loop's.
    mains = {lane: name for lane, name in names.items() if lane[0] == lane[1]}
    assert mains == {(THREADS_PID, THREADS_PID): "event loop (main thread)"}
    assert not any(tid in (REQUESTS_PID, THREADS_PID) for pid, tid in names if pid == REQUESTS_PID)
    # Every span of every request is in the trace, on both views (its request, its thread).
    spans = sum(1 for s in record.server for sp in s.spans if sp.kind in SPAN_PHASE)
    on_requests = sum(1 for e in complete if e["pid"] == REQUESTS_PID and e["cat"] == "phase")
    assert on_requests >= spans
    # Lanes sort as strings the way they sort as numbers (zero-padded numbers).
    request_labels = [name for (pid, _), name in names.items() if pid == REQUESTS_PID and name.startswith("#")]
    ids = [int(name[1:].split()[0]) for name in request_labels]
    assert sorted(request_labels) == [request_labels[i] for i in sorted(range(len(ids)), key=ids.__getitem__)]


def test_a_scenario_trace_nests_on_every_lane_and_the_lag_covers_the_stall(tmp_path):
    trace = tmp_path / "trace.json"
    result = cli("run", "one-blocking-call", "--trace", str(trace), "--json", timeout=180)
    assert result.returncode == 0, result.stderr
    doc = json.loads(trace.read_text())
    assert overlapping_events(doc) == []
    names = lane_names(doc)
    assert names[(THREADS_PID, THREADS_PID)] == "event loop (main thread)"
    # The scenario's 1 s blocking call: the counter reads the stall's lag from when the
    # heartbeat was due (the loop froze) until it woke, so the value is up across the frozen
    # time, not only after it, and drops back to 0 where the heartbeat woke.
    lag = [e for e in doc["traceEvents"] if e["ph"] == "C"]
    assert [e["ts"] for e in lag] == sorted(e["ts"] for e in lag)
    worst = max(range(len(lag)), key=lambda i: lag[i]["args"]["lag"])
    stall_ms = lag[worst]["args"]["lag"]
    assert stall_ms >= 900
    rise, fall = lag[worst]["ts"] / 1000, lag[worst + 1]["ts"] / 1000  # ms
    assert lag[worst + 1]["args"]["lag"] == 0
    assert abs(fall - rise - stall_ms) < 1.0
    sleep = next(e for e in doc["traceEvents"] if e["ph"] == "X" and e["name"] == BLOCKING)
    sleep_start, sleep_end = sleep["ts"] / 1000, (sleep["ts"] + sleep["dur"]) / 1000
    assert rise <= sleep_start + 5 and fall >= sleep_end, "the raised counter covers the blocking call"
    # The watchdog's stall lane names what held the loop over that second: the demo's own line.
    stalls = [e for e in doc["traceEvents"] if e["ph"] == "X" and e.get("cat") == "stall"]
    held = max(stalls, key=lambda e: e["dur"])
    assert held["dur"] >= 900_000 and "time.sleep" in held["name"] and "basics.py" in held["args"]["culprit"]


def test_a_thread_pool_trace_nests_on_every_lane(lab_runner, tmp_path):
    record = lab_runner.run("sync-to-async-threadpool", concurrency=20, requests=20, params={"delay": 0.1})
    doc = json.loads(write_chrome_trace(record, tmp_path / "trace.json").read_text())
    assert_perfetto_keeps_everything(doc, record)
    pool_lanes = {name for name in lane_names(doc).values() if name.startswith("thread pool #")}
    assert pool_lanes and all(name[len("thread pool #") :][:4].isdigit() for name in pool_lanes)


def test_a_5000_request_trace_nests_on_every_lane(lab_runner, tmp_path):
    record = lab_runner.run("hello", concurrency=50, requests=5000)
    doc = json.loads(write_chrome_trace(record, tmp_path / "trace.json").read_text())
    assert_perfetto_keeps_everything(doc, record)
    # One lane per request, one per thread it started (each request's own sync thread).
    names = lane_names(doc)
    requests = [n for (pid, _), n in names.items() if pid == REQUESTS_PID and n.startswith("#")]
    assert len({n.split(" · ")[0] for n in requests}) == 5000
    # A request's own lanes are few: a second one only for what overlaps without nesting
    # (e.g. the response's close, still running on its thread after the client had it all).
    assert len(requests) < 5000 * 1.1
    threads = {n for (pid, _), n in names.items() if pid == THREADS_PID and n.startswith("request thread #")}
    assert len(threads) == compute(record).threads_started == 5000


def test_nesting_splits_only_what_overlaps_without_nesting():
    def p(start: int, end: int) -> Phase:
        return Phase("x", start, end)

    outer, inner, sibling, crossing = p(0, 100), p(10, 20), p(20, 30), p(25, 150)
    lanes = nest_into_lanes([crossing, sibling, inner, outer])
    assert lanes == [[outer, inner, sibling], [crossing]]
    assert nest_into_lanes([p(0, 10), p(0, 10), p(10, 10)]) == [[p(0, 10), p(0, 10), p(10, 10)]]
