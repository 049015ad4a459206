"""The timeline does not mislead: read back the pixels the real widgets paint.

Synthetic records where a picture rule needs exact control (which phase covers most of a
pixel, a blocked stretch over bars, many lanes), real runs of the embedded site where the
rule is about what the server did (thread lanes, sleeps in threads, nesting, in flight).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from embedded_site.tracing import spans as k  # noqa: E402
from engine.config import RunConfig, Stream  # noqa: E402
from engine.record import ClientRequest, LagSample, RunRecord, ServerRequest, Span  # noqa: E402

LOOP = 1


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def _record(
    n: int, view_ms: float, hop_ms: float, concurrency: int = 1, tid: int = LOOP, kind: str = k.VIEW
) -> RunRecord:
    """``n`` back-to-back requests per user: a short hop wait, then ``view_ms`` of ``kind``."""
    t0 = 1_000_000_000
    rec = RunRecord(
        RunConfig("t", (Stream("t", concurrency=concurrency, requests=n),)),
        {},
        "qt",
        "http://t",
        t0,
        loop_thread_id=LOOP,
        thread_names={LOOP: "MainThread"},
    )
    clocks = [t0] * concurrency
    rnd = random.Random(3)
    for i in range(n):
        u = i % concurrency
        start = clocks[u]
        hop0 = start + 10_000
        view0 = hop0 + int(hop_ms * 1e6)
        end = view0 + int(view_ms * 1e6 * rnd.uniform(0.9, 1.1))
        spans = [Span(k.HOP_WAIT, "hop", hop0, view0, LOOP), Span(kind, "v", view0, end, tid)]
        rec.server.append(
            ServerRequest(
                i, i, "GET", "/t/", "", start + 5_000, LOOP, end, end + 5_000, 200, spans=spans, returned_ns=end
            )
        )
        rec.client.append(ClientRequest(i, 0, "t", "http://t/t/", start, start, end, end + 10_000, 200))
        clocks[u] = end + 10_000
    rec.client.sort(key=lambda c: c.intended_ns)
    rec.finished_ns = max(clocks)
    return rec


def _canvas(record: RunRecord, mode: str = "requests", width: int = 1000, height: int = 300):
    from gui.time_axis import TimeAxis
    from gui.timeline_model import TimelineModel
    from gui.timeline_view import TimelineCanvas

    axis = TimeAxis()
    canvas = TimelineCanvas(axis)
    canvas.resize(width, height)
    canvas.set_model(TimelineModel.of_finished(record))
    canvas.set_mode(mode)
    axis.fit(canvas.model.span_ms)
    return canvas


def _colours_in(image, x0: int, x1: int, y0: int, y1: int) -> Counter:
    return Counter(image.pixel(x, y) & 0xFFFFFF for x in range(x0, x1) for y in range(y0, y1))


def _row_band(canvas, row: int) -> tuple[int, int]:
    from gui.timeline_model import BAR_HEIGHT

    area, rh = canvas.data_rect(), canvas.row_height()
    top = area.top() + row * rh - canvas.v_offset
    return int(top + 2), int(top + rh * BAR_HEIGHT - 1)


def test_a_pixel_column_shows_the_phase_that_covers_most_of_it() -> None:
    """3,000 requests of 0.9 ms view after a 0.1 ms hop wait, ~3 per pixel: the row reads as view,
    not as the yellow of the hop waits drawn last (what a zoomed-out hello × 5,000 showed)."""
    from engine.phases import HOP_WAIT, VIEW
    from gui import theme

    canvas = _canvas(_record(3000, view_ms=0.9, hop_ms=0.1))
    image = canvas.grab().toImage()
    area = canvas.data_rect()
    y0, y1 = _row_band(canvas, 0)
    seen = _colours_in(image, int(area.left()) + 20, int(area.right()) - 20, y0, y1)
    total = sum(seen.values())
    view, hop = theme.colour(VIEW).rgb() & 0xFFFFFF, theme.colour(HOP_WAIT).rgb() & 0xFFFFFF
    assert seen[view] / total > 0.8, seen.most_common(4)
    assert seen[hop] / total < 0.05


def test_the_live_view_shows_the_majority_too() -> None:
    """The same record replayed live (as a run fills it): the live picture reads as view as well."""
    from engine.phases import HOP_WAIT, VIEW
    from gui import theme
    from gui.time_axis import TimeAxis
    from gui.timeline_model import TimelineModel
    from gui.timeline_view import TimelineCanvas

    record = _record(3000, view_ms=0.9, hop_ms=0.1)
    clients, servers, end = record.client, record.server, record.finished_ns
    record.client, record.server, record.finished_ns = [], [], None
    model = TimelineModel(record)
    axis = TimeAxis()
    canvas = TimelineCanvas(axis)
    canvas.resize(1000, 300)
    canvas.set_model(model)
    for n in range(300, 3001, 300):
        record.client.extend(clients[len(record.client) : n])
        record.server.extend(servers[len(record.server) : n])
        model.refresh(clients[n - 1].done_ns + 1)
        for _ in range(20):  # a coarser level is made a slice per refresh
            model.refresh(clients[n - 1].done_ns + 1)
        canvas.grab()
    axis.fit((end - record.started_ns) / 1e6)
    image = canvas.grab().toImage()
    area = canvas.data_rect()
    y0, y1 = _row_band(canvas, 0)
    seen = _colours_in(image, int(area.left()) + 20, int(area.left() + area.width() * 0.9), y0, y1)
    total = sum(seen.values())
    view, hop = theme.colour(VIEW).rgb() & 0xFFFFFF, theme.colour(HOP_WAIT).rgb() & 0xFFFFFF
    assert not model.complete
    assert seen[view] / total > 0.7, seen.most_common(4)
    assert seen[hop] / total < 0.05


def test_the_blocked_shading_never_changes_a_bar_colour() -> None:
    from engine.phases import CPU
    from gui import theme

    record = _record(20, view_ms=50, hop_ms=0.1, kind=k.CPU)
    middle = record.client[10]
    record.lag = [LagSample(middle.done_ns, middle.done_ns - middle.intended_ns)]  # blocked over request 10
    canvas = _canvas(record)
    assert canvas.model.blocked
    image = canvas.grab().toImage()
    bar = canvas.model.bars[10]
    area = canvas.data_rect()
    sx = area.width() / canvas.axis.span
    x0 = int(area.left() + (canvas.model.ms(bar.start_ns) - canvas.axis.t0) * sx) + 8
    x1 = int(area.left() + (canvas.model.ms(bar.end_ns) - canvas.axis.t0) * sx) - 3
    y0, y1 = _row_band(canvas, bar.row)
    seen = _colours_in(image, x0, x1, y0, y1)
    assert seen.most_common(1)[0][0] == theme.colour(CPU).rgb() & 0xFFFFFF
    assert set(seen) <= {theme.colour(p).rgb() & 0xFFFFFF for p in theme.PHASE_COLOURS} | {0xFFFFFF}
    # ...and the stretch is still marked: the hatched band over the time axis, and the background.
    band = _colours_in(image, x0, x1, int(area.top()) - 4, int(area.top()) - 1)
    assert theme.BLOCKED_BAND.rgb() & 0xFFFFFF in band
    below = _colours_in(image, x0, x1, int(area.bottom()) - 6, int(area.bottom()) - 2)
    assert 0xFFFFFF not in below  # the empty area under the bars is tinted


def test_the_event_loop_lane_stays_pinned_when_the_lanes_scroll() -> None:
    from engine.phases import BLOCKING
    from gui import theme

    record = _record(60, view_ms=5, hop_ms=0.1, concurrency=1, kind=k.BLOCKING)
    for i, s in enumerate(record.server):  # sync work on 60 different threads, then one blocking call on the loop
        s.spans.append(Span(k.HOP_RUN, "sync", s.arrival_ns, s.arrival_ns + 1000, 100 + i))
        record.thread_names[100 + i] = f"ThreadPoolExecutor-{500 + i}_0"
    canvas = _canvas(record, "threads", height=300)
    model = canvas.model
    assert model.lane_labels[0].startswith("event loop")
    assert model.lane_labels[1:4] == ["request thread #1", "request thread #2", "request thread #3"]
    canvas._scroll(10_000)
    assert canvas.v_offset > 0
    assert canvas.row_of(canvas.data_rect().top() + 3)[0] == 0  # the top row is still the loop's
    image = canvas.grab().toImage()
    area = canvas.data_rect()
    y0, y1 = _row_band(canvas, 0)
    y0, y1 = int(area.top() + 2), int(area.top() + canvas.row_height() * 0.8 - 1)
    seen = _colours_in(image, int(area.left()) + 5, int(area.right()) - 5, y0, y1)
    assert seen.most_common(1)[0][0] == theme.colour(BLOCKING).rgb() & 0xFFFFFF


def test_the_more_lanes_hint_is_not_cut() -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from gui.timeline_view import LANE_GUTTER, TimelineCanvas

    record = _record(90, view_ms=5, hop_ms=0.1)
    for i, s in enumerate(record.server):
        s.spans.append(Span(k.HOP_RUN, "sync", s.arrival_ns, s.arrival_ns + 1000, 100 + i))
    canvas = _canvas(record, "threads", height=300)
    text = canvas.more_lanes_hint()
    assert text.startswith("↓ ") and " more lanes" in text
    hidden = int(text.split()[1])
    assert hidden == len(canvas.model.lane_labels) - int(canvas.data_rect().height() / canvas.row_height())
    font = QFont(canvas.font().family(), 8)
    assert QFontMetrics(font).horizontalAdvance(text) <= LANE_GUTTER - 12
    assert isinstance(canvas, TimelineCanvas)


def test_a_late_heartbeat_covers_the_interval_it_measured() -> None:
    from gui.timeline_model import TimelineModel

    record = _record(10, view_ms=10, hop_ms=0.1)
    t = record.client[5].done_ns
    record.lag = [LagSample(t - 500_000_000, 1_000_000), LagSample(t, 300_000_000)]
    model = TimelineModel.of_finished(record)
    at = [(round(p.x(), 3), round(p.y(), 3)) for p in model.lag_points]
    assert (round(model.ms(t - 300_000_000), 3), 300.0) in at and (round(model.ms(t), 3), 300.0) in at
    assert model.blocked == [(model.ms(t - 300_000_000), model.ms(t))]


# -- real runs ------------------------------------------------------------------------------


def test_lanes_are_numbered_from_one_in_order_of_first_use(lab_runner) -> None:
    from gui.timeline_model import TimelineModel

    record = lab_runner.run("sync-sleep", concurrency=5, requests=5, params={"delay": 0.05})
    model = TimelineModel.of_finished(record)
    labels = model.lane_labels
    assert labels[0].startswith("event loop")
    threads = [label for label in labels[1:] if label.startswith("request thread")]
    assert threads == [f"request thread #{i}" for i in range(1, len(threads) + 1)] and len(threads) >= 5
    firsts = [min(p.start_ns for p in spans) for spans in model.lane_spans[1:] if spans]
    assert firsts == sorted(firsts)


def test_a_sleep_in_a_worker_thread_is_not_drawn_as_blocking_the_loop(lab_runner) -> None:
    from engine.phases import BLOCKING, THREAD_BLOCKING, request_bars
    from gui import theme

    sync = lab_runner.run("sync-sleep", concurrency=3, requests=3, params={"delay": 0.05})
    phases = {p.phase for b in request_bars(sync, sync.finished_ns) for p in b.phases}
    assert THREAD_BLOCKING in phases and BLOCKING not in phases
    on_loop = lab_runner.run("blocking-sleep", concurrency=2, requests=2, params={"delay": 0.05})
    phases = {p.phase for b in request_bars(on_loop, on_loop.finished_ns) for p in b.phases}
    assert BLOCKING in phases and THREAD_BLOCKING not in phases
    assert theme.colour(THREAD_BLOCKING).rgb() != theme.colour(BLOCKING).rgb()


def test_one_max_in_flight_and_upstream_calls_nest_under_their_parent(lab_runner) -> None:
    """fan-out: 4 client requests make 3 upstream calls each; the strip's max is the stats' max,
    and every upstream call is drawn inside the request that made it (no loose rows)."""
    from engine.stats import compute
    from gui.timeline_model import TimelineModel

    record = lab_runner.run("fanout-gather", concurrency=4, requests=4, params={"width": 3, "delay": 0.05})
    assert sum(1 for s in record.server if s.client_id is None) == 12
    model = TimelineModel.of_finished(record)
    assert model.max_inflight == compute(record).max_in_flight == 4
    assert len(model.bars) == 4 and model.rows == 4
    for bar in model.bars:
        assert len(bar.children) == 3
        assert all(bar.start_ns <= c.start_ns and c.end_ns <= bar.end_ns for c in bar.children)


def test_the_odd_request_of_a_scenario_is_marked_and_can_be_jumped_to(lab_runner) -> None:
    from gui.time_axis import TimeAxis
    from gui.timeline_model import TimelineModel
    from gui.timeline_view import TimelineCanvas

    record = lab_runner.run("one-blocking-call")
    model = TimelineModel.of_finished(record)
    blocking = [b for b in model.bars if b.demo == "blocking-sleep"]
    assert len(blocking) == 1 and blocking[0] in model.outliers
    axis = TimeAxis()
    canvas = TimelineCanvas(axis)
    canvas.resize(1000, 400)
    canvas.set_model(model)
    axis.fit(model.span_ms)
    shown = canvas.next_outlier()
    assert shown is not None and shown.outlier
    assert axis.t0 <= model.ms(shown.start_ns) and model.ms(shown.end_ns) <= axis.t1
    assert model.ms(shown.end_ns) - model.ms(shown.start_ns) >= axis.span / 2  # it fills the view


def test_the_live_window_draws_every_finished_request_and_keeps_its_bars(window, gui_lab) -> None:
    """A real run in the window: after each refresh every finished request is drawn (settled or
    provisional), the live in-flight count is what the record says, and the bars settled live are
    the very bars of the finished picture (same rows)."""
    from engine.phases import request_bars

    from .conftest import call_in_loop, run_until

    _, loop = gui_lab
    assert window.catalogue.select("hello")
    window.controls.amount_kind.setCurrentText("requests")
    window.controls.open_loop.setChecked(False)
    window.controls.requests.setValue(1000)
    window.controls.concurrency.setValue(10)
    frames: list[tuple[int, int, int, int]] = []
    seen_rows: dict[int, int] = {}
    original = window._tick

    def tick() -> None:
        record = window.record
        done_before = sum(1 for c in list(record.client) if c.done_ns is not None) if record is not None else 0
        original()
        model = window.model
        if model is None or model.complete:
            return
        clients = list(window.record.client)
        flying = sum(1 for c in clients if c.sent_ns is not None and c.done_ns is None)
        drawn = len(model.bars) + sum(1 for b in model.live_bars if not b.in_flight)
        frames.append((done_before, drawn, flying, model.inflight_points[-1].y()))
        for bar in model.bars:
            seen_rows.setdefault(bar.client_id, bar.row)

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(tick)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 120)
    assert len(frames) >= 2  # frames are paced by their cost: few on a loaded machine
    # Everything that had finished when the refresh began is drawn after it.
    assert all(drawn >= done for done, drawn, _f, _i in frames), frames[:20]
    # (reports keep landing from another thread while the frame is drawn: a batch's worth of slack)
    assert all(abs(live - flying) <= 10 for _d, _dr, flying, live in frames)
    assert any(live > 0 for *_x, live in frames)
    model = window.model
    assert model.complete and len(model.bars) == 1000
    final = {b.client_id: b.row for b in request_bars(window.record, window.record.finished_ns) if b.parent_id is None}
    assert seen_rows and all(final[cid] == row for cid, row in seen_rows.items())
    assert {b.client_id: b.row for b in model.bars} == final
    # ...and their phases are all there: spans the server adds after the response (Django's
    # request_finished handlers) are in the bars settled live, as in a build from the finished record.
    fresh = {
        b.client_id: [(p.phase, p.start_ns, p.end_ns) for p in b.phases]
        for b in request_bars(window.record, window.record.finished_ns)
    }
    assert all([(p.phase, p.start_ns, p.end_ns) for p in b.phases] == fresh[b.client_id] for b in model.bars)
