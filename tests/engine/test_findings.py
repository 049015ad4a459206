"""Each finding from records built by hand: the rule's arithmetic and wording, no timing."""

from __future__ import annotations

from embedded_site.demos.catalogue import Check
from embedded_site.tracing.spans import LagSample, ServerRequest, Span
from embedded_site.tracing.watchdog import Stall
from engine.config import RunConfig, Stream
from engine.findings import RULE_MODULES, all_rules
from engine.findings.claims import check
from engine.findings.concurrency import words
from engine.findings.measure import level_exceeded, subtract
from engine.record import ClientRequest, RunRecord
from engine.stats import compute

MS = 1_000_000
LOOP = 1


def _run(target="demo", streams=None) -> RunRecord:
    streams = streams or (Stream(target, requests=1),)
    record = RunRecord(RunConfig(target, streams), {}, "asyncio", "", 0, loop_thread_id=LOOP)
    record.thread_names.update({LOOP: "MainThread"})
    return record


def _request(record: RunRecord, start: int, end: int, *spans: Span, demo=None, stream=0, error=None, **kw):
    i = len(record.client) + 1
    demo = demo or record.config.target
    status = None if error else 200
    record.client.append(
        ClientRequest(
            i, stream, demo, "", kw.pop("intended", start) * MS, start * MS, end * MS - 1, end * MS, status, 10, error
        )
    )
    server = ServerRequest(i, i, "GET", "/", "", start * MS, LOOP, end_ns=end * MS, status=status, **kw)
    server.spans.extend(spans)
    record.server.append(server)
    return server


def _span(kind, name, start, end, thread=LOOP, error=None):
    return Span(kind, name, start * MS, end * MS, thread, error)


def _found(record: RunRecord) -> dict:
    return {f["id"]: f for f in compute(record).findings}


def test_every_rule_module_registers_a_rule():
    assert len(all_rules()) == len(RULE_MODULES)


def test_loop_blocked_never_exceeds_the_run_and_names_the_culprit():
    # A stopped run: the client side ended at 1,000 ms, the loop stayed blocked long after.
    record = _run("blocking-sleep")
    for _ in range(3):
        _request(record, 0, 1000, _span("view", "v", 0, 500))
    record.lag.extend([LagSample(500 * MS, 500 * MS), LagSample(3000 * MS, 2490 * MS)])
    place = "time.sleep, demos/views/basics.py:91 in blocking_sleep"
    record.stalls.append(Stall(0, 3000 * MS, 10, [(place, 10)]))
    stats = compute(record)
    blocked = {f["id"]: f for f in stats.findings}["loop-blocked"]
    assert stats.blocked_ms <= stats.wall_s * 1000 and stats.blocked_share <= 1
    assert blocked["evidence"]["blocked_s"] <= blocked["evidence"]["wall_s"]
    assert blocked["evidence"]["culprit"] == place
    assert f"in {place}" in stats.verdict


def test_views_at_once_leave_out_hop_waits():
    # Four views on a two-thread pool: each view waits in a hop until a thread is free.
    record = _run("sync-to-async-threadpool")
    for i in range(4):
        wait_end = 0 if i < 2 else 100
        _request(
            record,
            0,
            wait_end + 100,
            _span("view", "v", 0, wait_end + 100),
            _span("hop-wait", "io (thread pool)", 0, wait_end),
            _span("hop-run", "io (thread pool)", wait_end, wait_end + 100, thread=10 + i % 2),
        )
    stats = compute(record)
    found = {f["id"]: f for f in stats.findings}
    assert stats.views_at_once == 2
    assert found["views-at-once"]["sentence"].startswith("partly concurrent: up to 2 views ran at once")
    pool = found["pool-queueing"]["evidence"]
    assert pool["waited"] == 2 and pool["pool_threads"] == 2 and pool["running_at_once"] == 2
    assert stats.verdict.startswith("4 × sync-to-async-threadpool took 0.20 s: 2 of 4 thread-pool calls waited")


def test_gil_contention_when_threads_compute_and_the_loop_is_late():
    record = _run("cpu-bound-thread")
    for i in range(4):
        _request(record, 0, 1000, _span("view", "v", 0, 1000), _span("cpu", "crunch", 0, 1000, thread=20 + i))
    record.lag.extend(LagSample(t * MS, 200 * MS) for t in range(200, 1001, 200))
    found = _found(record)
    assert found["gil-contention"]["severity"] == "problem"
    assert found["gil-contention"]["evidence"]["work_at_once"] == 4.0


def test_threads_that_keep_the_loop_free_are_said_to():
    record = _run("cpu-bound-thread")
    _request(record, 0, 1000, _span("view", "v", 0, 1000), _span("cpu", "crunch", 0, 1000, thread=20))
    assert "stayed responsive" in _found(record)["threads-kept-loop-free"]["sentence"]


def test_write_lock_measures_overlapping_writes():
    record = _run("orm-async-write")
    _request(record, 0, 50, _span("sql", "INSERT INTO book", 0, 10, thread=20))
    _request(record, 0, 50, _span("sql", "UPDATE book SET", 5, 40, thread=21))
    evidence = _found(record)["write-lock"]["evidence"]
    # 5 ms of the second write overlapped the first: it waited for the lock.
    assert evidence["writes_at_once"] == 2 and evidence["lock_wait_s"] == 0.005 and evidence["on_loop"] == 0


def test_threads_started_and_hops_per_request():
    record = _run("hello")
    for _ in range(2):
        _request(
            record,
            0,
            10,
            _span("hop-wait", "started (thread-sensitive), starting a new thread", 0, 2),
            _span("hop-wait", "finished (thread-sensitive)", 8, 9),
        )
    found = _found(record)
    assert found["threads-started"]["evidence"]["per_request"] == 1
    assert found["thread-hops"]["evidence"]["hops_per_request"] == 2


def test_open_loop_kept_up_or_fell_behind():
    stream = Stream("hello", rate=100.0, duration_s=1.0)
    record = _run("hello", (stream,))
    for i in range(100):
        _request(record, i * 10, i * 10 + 3, demo="hello")
    found = _found(record)
    assert "kept up" in found["open-loop-kept-up"]["sentence"]
    assert compute(record).verdict.startswith("100 × hello took 0.99 s: open loop of hello at 100 req/s offered")
    late = _run("hello", (stream,))
    for i in range(100):
        _request(late, i * 10, i * 10 + 3 + (600 if 20 <= i < 40 else 0), demo="hello", intended=i * 10)
    assert _found(late)["open-loop-fell-behind"]["evidence"]["late"] == 20


def test_stop_is_counted_as_cancelled_not_failed():
    record = _run("async-sleep")
    record.stopped = True
    _request(record, 0, 100)
    _request(record, 0, 100, error="stopped before it finished")
    stats = compute(record)
    assert stats.errors == 0 and stats.cancelled == 1
    found = {f["id"] for f in stats.findings}
    assert "stopped" in found and not {"some-failed", "all-failed"} & found


def test_a_client_that_gives_up_and_django_cancelling_the_view():
    record = _run("client-disconnect")
    for _ in range(3):
        server = _request(record, 0, 300, error="client gave up after 0.3 s (timeout)", disconnected=True)
        server.spans.append(_span("await", "asyncio.sleep(3.0)", 0, 300, error="CancelledError"))
    stats = compute(record)
    assert "Django cancelled the view of 3 of them" in stats.verdict
    assert "all-failed" not in {f["id"] for f in stats.findings}


def test_streaming_time_to_first_byte():
    record = _run("streaming")
    _request(record, 0, 1000)
    record.client[0].first_byte_ns = 5 * MS
    assert _found(record)["streamed"]["evidence"]["first_byte_p50_ms"] == 5.0


def test_gathered_awaits_overlap():
    record = _run("fanout-gather")
    _request(record, 0, 300, *(_span("await", f"GET {n}", 0, 200 + n) for n in range(5)))
    assert _found(record)["awaits"]["evidence"]["overlap_mean"] > 4


def test_incomplete_run():
    record = _run("hello")
    _request(record, 0, 10)
    record.notes.append("the load driver failed: died (signal 9)")
    assert compute(record).verdict.startswith("1 × hello took 0.01 s: the run is incomplete: the load driver failed")


def test_wording_comes_in_wide_bands():
    # hello measured 5.8-6.2 of 10 at once from run to run: the same words every time.
    assert {words(m, 10) for m in (5.8, 6.0, 6.2)} == {"partly concurrent"}
    assert words(1.1, 10) == "one at a time" and words(7.8, 10, most=10) == "fully concurrent"
    # 50 sleeping views that arrived staggered on a busy machine: all 50 at once is what counts.
    assert words(39.1, 50, most=50) == "fully concurrent"
    # Short ORM views peak at 7 to 10 of 10 from run to run: the numbers, without a word.
    assert {words(m, 10, most=k, long_views=False) for m, k in ((3.7, 9), (5.9, 10), (6.8, 7))} == {""}


def test_interval_helpers():
    assert subtract((0, 100), [(10, 20), (50, 60)]) == [(0, 10), (20, 50), (60, 100)]
    # Two at once for 90 % of the time, three for an instant: two.
    assert level_exceeded([(0, 100), (0, 100), (50, 55)], 0.1) == 2


def test_a_check_reports_what_it_measured():
    record = _run("hello")
    _request(record, 0, 10)
    stats = compute(record)
    ok = check(Check("no errors", None, "errors", "==", 0), stats)
    assert ok.ok and ok.line == "✓ no errors (measured 0)"
    missing = check(Check("blocked", "loop-blocked"), stats)
    assert not missing.ok and missing.line == "✗ blocked (no loop-blocked finding)"
    lacks = check(Check("not in the view", "loop-blocked", "culprit", "lacks", "hello"), stats)
    assert lacks.ok


def test_an_open_loop_stall_does_not_say_the_views_ran_one_at_a_time():
    # hello at 100/s with one blocking view of 1 s in the middle: the 4 ms views queued
    # behind one stall; that is not views running one at a time.
    streams = (Stream("hello", rate=100.0, duration_s=3.0), Stream("blocking-sleep", requests=1, start_s=1.0))
    record = _run("open-loop-stall", streams)
    for i in range(300):
        late = 1000 if 100 <= i < 200 else 0
        _request(
            record,
            i * 10,
            i * 10 + 4 + late,
            _span("view", "hello", i * 10 + late, i * 10 + late + 1),
            demo="hello",
            intended=i * 10,
        )
    _request(record, 1000, 2000, _span("view", "blocking", 1000, 2000), demo="blocking-sleep", stream=1)
    record.lag.append(LagSample(2000 * MS, 1000 * MS))
    stats = compute(record)
    assert "blocked for 1.00 s at once" in stats.verdict
    assert "one at a time" not in stats.verdict
