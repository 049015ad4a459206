"""What the event loop's thread did, measured on real runs: busy or idle, and for whom.

Both metered loop kinds (``asyncio`` through the session's lab, ``qt`` through a lab of its
own on a Qt-driven loop), real demos on the real embedded site: a view that awaits leaves the
loop mostly idle, one that sleeps or computes on the loop keeps it busy, and that busy time is
charged to those very requests.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from embedded_site.tracing import collector
from embedded_site.tracing.loop_activity import OTHERS, QASYNC, QT, SERVER, TOP_REQUESTS
from engine.derive import Derivation
from engine.loop_lane import busy_at, loop_busy
from engine.phases import BLOCKING, CPU, LOOP_OVERHEAD
from engine.plan import make_config
from engine.stats import compute


def _findings(stats) -> dict:
    return {f["id"]: f for f in stats.findings}


def _run_on(kind: str, target: str, **settings):
    """One run on a lab of its own whose server runs on a new loop of ``kind``."""
    from engine.lab import Lab
    from engine.loops import close_loop, new_loop

    Lab.prepare()
    loop = new_loop(kind)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind=kind)
    try:
        loop.run_until_complete(lab.start())
        record = loop.run_until_complete(lab.run(make_config(target, **settings)))
        assert "_run_once" not in loop.__dict__, "the loop is timed only while a run records"
        loop.run_until_complete(lab.close())
    finally:
        close_loop(loop)
    return record


@pytest.fixture(params=["asyncio", "qt"])
def run(request, lab_runner):
    if request.param == "asyncio":
        return lab_runner.run
    return lambda target, **settings: _run_on("qt", target, **settings)


def _says_share(sentence: str, before: str, share: float) -> bool:
    """The sentence gives ``share`` as a whole percentage after ``before``.  It rounds the
    measured share, the stats keep it to three decimals (a measured 0.1054 reads "11%" and is
    0.105 in the stats): the same number at two precisions, so within half a percent."""
    said = re.search(re.escape(before) + r"(\d+)%", sentence)
    return said is not None and abs(int(said.group(1)) - share * 100) <= 0.51


def test_an_awaiting_view_leaves_the_loop_mostly_idle(run) -> None:
    # One second of waiting: on a loaded machine Django's own work for 20 requests takes a
    # good part of a second of loop time, and it must still be the smaller part.
    record = run("async-sleep", concurrency=20, requests=20, params={"delay": 1.0})
    activity = record.loop_activity
    assert activity is not None and activity.measured and activity.kind == record.loop
    stats = compute(record)
    busy = stats.loop_busy
    assert busy["measured_s"] >= 1.0
    assert busy["share"] < 0.5, busy  # twenty 1 s waits overlap: the loop mostly waited
    assert 3 <= busy["requests"] <= 20  # the requests' own code ran on the loop a little (a bucket names 3)
    line = _findings(stats)["loop-busy"]["sentence"]
    assert _says_share(line, "loop busy ", busy["share"]) and line.startswith("loop busy ") and "(requests " in line
    assert "saturated" not in _findings(stats) and "loop-kept-busy" not in _findings(stats)


def test_a_blocking_sleep_on_the_loop_is_busy_time_of_its_requests(run) -> None:
    delay = 0.3
    record = run("blocking-sleep", concurrency=3, requests=3, params={"delay": delay})
    stats = compute(record)
    busy = stats.loop_busy
    assert busy["share"] >= 0.8, busy
    assert busy["requests_share"] >= 0.75, busy
    # Each request is charged at least its own sleep, on the loop's thread.
    _span, _busy, by_owner = busy_at(record, record.started_ns, record.finished_ns)
    for server in record.server:
        assert by_owner.get(server.id, 0) >= delay * 0.95e9, (server.id, by_owner)
    # The event-loop lane shows it as those requests blocking the loop, not as idle or overhead.
    lane = Derivation.of_record(record).lanes()[0]
    assert lane.thread_id == record.loop_thread_id
    blocking = [p for p in lane.spans if p.phase == BLOCKING]
    assert sum(p.end_ns - p.start_ns for p in blocking) >= 3 * delay * 0.95e9
    assert all("/demo/blocking-sleep/" in p.detail and "time.sleep" in p.detail for p in blocking)
    ids = {f"request #{c.id} " for c in record.client}
    assert {next(i for i in ids if p.detail.startswith(i)) for p in blocking} == ids
    assert any(p.phase == LOOP_OVERHEAD for p in lane.spans)


def test_cpu_work_on_the_loop_is_busy_time_of_its_requests(lab_runner) -> None:
    record = lab_runner.run("cpu-bound-async", concurrency=4, requests=4)
    busy = compute(record).loop_busy
    assert busy["share"] >= 0.8 and busy["requests_share"] >= 0.75, busy
    lane = Derivation.of_record(record).lanes()[0]
    cpu = sum(p.end_ns - p.start_ns for p in lane.spans if p.phase == CPU)
    assert cpu >= 0.6 * busy["busy_s"] * 1e9


def test_the_lane_is_idle_where_the_loop_waited(lab_runner) -> None:
    record = lab_runner.run("async-sleep", concurrency=2, requests=2, params={"delay": 0.4})
    lane = Derivation.of_record(record).lanes()[0]
    drawn = sum(p.end_ns - p.start_ns for p in lane.spans)
    activity = record.loop_activity
    measured = activity.until_ns - activity.since_ns
    assert drawn == sum(activity.busy_ns)  # what is drawn is what was measured, no more
    assert drawn < 0.25 * measured  # two awaits of 0.4 s: the loop waited nearly all the time
    assert loop_busy(record, activity.since_ns, activity.until_ns).busy_ns == drawn
    # Nothing drawn overlaps: idle is the gaps between the pieces.
    pieces = sorted((p.start_ns, p.end_ns) for p in lane.spans)
    assert all(b[0] >= a[1] for a, b in zip(pieces, pieces[1:]))


def test_owners_are_requests_the_server_or_qt(lab_runner) -> None:
    record = lab_runner.run("hello", concurrency=5, requests=50)
    activity = record.loop_activity
    ids = {s.id for s in record.server}
    earlier = {o for o in set(activity.owners) - ids if 0 < o < min(ids)}  # the last run's requests ending
    assert set(activity.owners) - ids - earlier <= {SERVER, QT, OTHERS}
    assert len(ids & set(activity.owners)) >= 0.5 * len(ids)  # most are named (a bucket names its 3 busiest)
    assert QT not in activity.owners  # the asyncio kind has no Qt
    assert all(size <= TOP_REQUESTS + 3 for size in activity.sizes)
    assert sum(activity.sizes) == len(activity.owners) == len(activity.busy_ns)
    assert all(0 < ns <= activity.bucket_ns for ns in activity.busy_ns)
    assert list(activity.buckets) == sorted(activity.buckets)


def test_nothing_is_measured_without_tracing(lab_runner) -> None:
    collector.enabled = False
    try:
        record = lab_runner.run("hello", concurrency=2, requests=4)
    finally:
        collector.enabled = True
    assert record.loop_activity is None
    assert "_run_once" not in lab_runner.loop.__dict__
    assert "loop-busy" not in _findings(compute(record))


def test_qasync_says_it_was_not_measured() -> None:
    record = _run_on("qasync", "blocking-sleep", concurrency=2, requests=2, params={"delay": 0.1})
    assert record.loop_activity is not None and not record.loop_activity.measured
    assert record.loop_activity.not_measured == QASYNC
    stats = compute(record)
    found = _findings(stats)
    assert found["loop-busy-not-measured"]["sentence"] == f"the loop's busy time was {QASYNC}"
    assert stats.loop_busy == {}
    # The lane falls back to the requests' spans on the loop's thread.
    lane = Derivation.of_record(record).lanes()[0]
    assert any(p.phase == BLOCKING for p in lane.spans)


def test_a_busy_loop_is_said_with_its_measured_share(lab_runner) -> None:
    # Many short callbacks: hello as fast as the server goes.  On a machine shared with other
    # work, long stalls (threads fighting for the GIL) can make up most of the busy time; then
    # the stalls are loop-blocked's to name, and saturation must stay silent.
    from engine.findings.facts import gather
    from engine.findings.saturation import LONG_STALL_NS

    record = lab_runner.run("hello", concurrency=20, requests=600)
    stats = compute(record)
    found = _findings(stats)
    facts = gather(record)
    long_ns = sum(e - s for s, e in facts.blocked if e - s >= LONG_STALL_NS)
    busy = {"saturated", "loop-kept-busy"} & set(found)
    if long_ns >= 0.5 * facts.loop_busy.busy_ns:
        assert not busy and "loop-blocked" in found, stats.verdict
        return
    assert stats.loop_busy["share"] >= 0.5, stats.loop_busy  # hello keeps the loop busy
    assert busy, (stats.loop_busy, stats.longest_stall_ms, stats.verdict)
    finding = found[busy.pop()]
    assert _says_share(finding["sentence"], "measured busy share of the loop ", stats.loop_busy["share"])
    assert "heartbeat" not in finding["sentence"]
    assert finding["evidence"]["share"] == stats.loop_busy["share"]


def test_the_trace_has_a_loop_activity_lane_and_the_record_carries_it(lab_runner, tmp_path) -> None:
    import json

    from engine.exports.chrome_trace import THREADS_PID, write_chrome_trace
    from engine.exports.run_json import write_json

    from .test_export import overlapping_events

    record = lab_runner.run("blocking-sleep", concurrency=2, requests=2, params={"delay": 0.2})
    doc = json.loads(write_chrome_trace(record, tmp_path / "trace.json").read_text())
    events = doc["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    tid = next(t for t, name in names.items() if name.startswith("event loop activity"))
    lane = [e for e in events if e["ph"] == "X" and e["pid"] == THREADS_PID and e["tid"] == tid]
    assert abs(sum(e["dur"] for e in lane) * 1000 - sum(record.loop_activity.busy_ns)) < len(lane) + 1
    blocking = [e for e in lane if e["name"] == BLOCKING]
    assert sum(e["dur"] for e in blocking) >= 2 * 0.2e6 * 0.95
    assert all("/demo/blocking-sleep/" in e["args"]["detail"] for e in blocking)
    assert not overlapping_events(doc)  # Perfetto keeps every piece
    saved = json.loads(write_json(record, tmp_path / "run.json").read_text())["loop_activity"]
    assert saved["busy_ns"] == list(record.loop_activity.busy_ns) and saved["kind"] == "asyncio"
    assert saved["since_ns"] == record.loop_activity.since_ns


def test_a_long_run_is_kept_in_coarser_buckets(monkeypatch, lab_runner) -> None:
    from embedded_site.tracing import loop_activity

    monkeypatch.setattr(loop_activity, "LEVEL_GROUPS", 50)  # a run of seconds stands in for one of minutes
    record = lab_runner.run("blocking-sleep", concurrency=1, requests=2, params={"delay": 0.2})
    activity = record.loop_activity
    assert len(activity.widths) >= 3 and activity.widths == [
        activity.bucket_ns * 2**i for i in range(len(activity.widths))
    ]
    assert all(b - a == 50 for a, b in zip(activity.width_from, activity.width_from[1:]))
    assert all(activity.end_of(g) <= activity.buckets[g + 1] for g in range(len(activity.buckets) - 1))
    busy = compute(record).loop_busy
    assert busy["share"] >= 0.8  # the same truth, at a coarser grain
    lane = Derivation.of_record(record).lanes()[0]
    assert sum(p.end_ns - p.start_ns for p in lane.spans if p.phase == BLOCKING) >= 2 * 0.2e9 * 0.95
    pieces = sorted((p.start_ns, p.end_ns) for p in lane.spans)
    assert all(b[0] >= a[1] for a, b in zip(pieces, pieces[1:]))


def test_runs_back_to_back_each_measure_only_their_own_time(lab_runner) -> None:
    # The second run starts in the loop iteration that ended the first: the iteration timed
    # for the first run must not charge the second.
    lab = lab_runner.lab

    async def two() -> list:
        return [await lab.run(make_config("hello", concurrency=5, requests=20 + i)) for i in range(3)]

    for record in lab_runner.loop.run_until_complete(two()):
        activity = record.loop_activity
        assert activity.measured and record.started_ns <= activity.since_ns <= activity.until_ns
        assert activity.until_ns <= record.finished_ns
        assert activity.buckets[0] >= activity.since_ns - activity.bucket_ns
        lane = Derivation.of_record(record).lanes()[0]
        assert all(activity.since_ns <= p.start_ns and p.end_ns <= activity.until_ns + 1 for p in lane.spans)


def test_a_stack_caught_between_callbacks_is_the_loops_own_iteration_not_the_meter() -> None:
    """A watchdog sample that finds the loop's thread in the meter's copy of ``_run_once``
    (between two callbacks) names the loop's own iteration, never the lab's meter as a cause."""
    import sys

    from embedded_site.tracing.loop_activity import LoopMeter
    from embedded_site.tracing.watchdog import BETWEEN, place

    loop = asyncio.new_event_loop()
    meter = LoopMeter(loop, "asyncio")
    meter.new_activity()
    meter.start()
    seen: list[str] = []

    def callback() -> None:
        frame = sys._getframe()
        while frame is not None and frame.f_code.co_name != "_timed_run_once":
            frame = frame.f_back
        assert frame is not None, "the metered loop ran this callback from its own iteration"
        seen.append(place(frame))

    try:
        loop.call_soon(callback)
        loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        meter.stop()
        loop.close()
    assert seen and seen[0].startswith(BETWEEN), seen
    assert "LoopMeter" in seen[0]  # the frame is named, as an aside, for whoever reads the evidence


def test_the_streamed_loop_lane_is_the_built_one_in_time_order(monkeypatch, lab_runner) -> None:
    # The trace writes the measured lane as it streams it (bounded state); it must be exactly
    # what the incremental builder makes of the whole run, sorted by start, even when the
    # builder forgets requests long over (here: at once, so every request's segments are remade).
    from engine import loop_lane
    from engine.loop_lane import LoopLaneBuilder

    record = lab_runner.run("hello", concurrency=10, requests=300)
    built = sorted(LoopLaneBuilder(record).add(final=True), key=lambda p: p.start_ns)
    monkeypatch.setattr(loop_lane, "_FORGET_NS", 0)
    monkeypatch.setattr(loop_lane, "_FORGET_EVERY", 1)
    streamed = list(LoopLaneBuilder(record).iter_final())
    as_tuples = lambda spans: [(p.phase, p.start_ns, p.end_ns, p.thread_id, p.detail) for p in spans]  # noqa: E731
    assert len(built) > 300 and as_tuples(streamed) == as_tuples(built)
    assert any("request #" in p.detail for p in streamed)
