"""Timeline paint benchmark: a synthetic 100,000-request record, painted offscreen.

Prints numbers (not a test): the time to derive the model, to paint the whole run
(fit), one zoom step, a deep zoom and the threads view.  Target: ≤ 16 ms per frame.
Run: ``python bench/timeline.py [requests]``.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtGui import QImage, QPainter  # noqa: E402

from embedded_site.tracing import spans as k  # noqa: E402
from engine.config import RunConfig, Stream  # noqa: E402
from engine.loops import ensure_qt_app  # noqa: E402
from engine.record import ClientRequest, LagSample, RunRecord, ServerRequest, Span  # noqa: E402

LOOP_TID = 1


def synthetic_record(n: int, concurrency: int = 100, seed: int = 1) -> RunRecord:
    """``n`` requests from ``concurrency`` closed-loop users; each has a view, an await and 1-3 SQL
    spans on the loop thread or a worker thread (≈ 5 phases per request, plus client phases)."""
    rnd = random.Random(seed)
    t0 = 1_000_000_000
    record = RunRecord(
        RunConfig("bench", (Stream("bench", concurrency=concurrency, requests=n),)),
        {},
        "qt",
        "http://bench",
        t0,
        loop_thread_id=LOOP_TID,
        thread_names={LOOP_TID: "MainThread"},
    )
    clocks = [t0] * concurrency
    for i in range(n):
        user = i % concurrency
        start = clocks[user] + rnd.randrange(50_000, 300_000)
        arrive = start + rnd.randrange(50_000, 200_000)
        view0 = arrive + 100_000
        sync = rnd.random() < 0.3
        tid = 100 + rnd.randrange(16) if sync else LOOP_TID
        spans = [Span(k.VIEW, "bench", view0, view0, tid)]
        t = view0
        for q in range(rnd.randrange(1, 4)):
            d = rnd.randrange(100_000, 2_000_000)
            spans.append(Span(k.SQL, f"SELECT {q} FROM bench WHERE id = %s", t, t + d, tid))
            t += d + 20_000
        d = rnd.randrange(1_000_000, 40_000_000)
        spans.append(Span(k.AWAIT if not sync else k.BLOCKING, "sleep", t, t + d, tid))
        t += d
        spans[0].end_ns = t
        end = t + 200_000
        status = 500 if rnd.random() < 0.01 else 200
        record.server.append(
            ServerRequest(
                i, i, "GET", "/demo/bench/", "", arrive, LOOP_TID, t, end, status, spans=spans, returned_ns=end
            )
        )
        record.client.append(
            ClientRequest(i, 0, "bench", "http://bench/demo/bench/", start, start, t, end + 50_000, status)
        )
        clocks[user] = end + 50_000
    # In the order the requests were made (as a real record is): by start, ids renumbered.
    pairs = sorted(zip(record.client, record.server), key=lambda cs: cs[0].intended_ns)
    for i, (c, s) in enumerate(pairs):
        c.id = s.id = s.client_id = i
    record.client = [c for c, _s in pairs]
    record.server = sorted((s for _c, s in pairs), key=lambda s: s.arrival_ns)
    last = max(clocks)
    record.lag = [LagSample(t, rnd.randrange(0, 3_000_000)) for t in range(t0, last, 4_000_000)]
    record.finished_ns = last
    for tid in range(100, 116):
        record.thread_names[tid] = f"worker-{tid}"
    return record


def frame_ms(widget, image: QImage, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        p = QPainter(image)
        t = time.perf_counter()
        widget.paint(p)
        times.append((time.perf_counter() - t) * 1000)
        p.end()
    return statistics.median(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ensure_qt_app(gui=True)
    from gui.time_axis import TimeAxis
    from gui.timeline_model import TimelineModel
    from gui.timeline_view import THREADS, LoopStrip, TimelineCanvas

    t = time.perf_counter()
    record = synthetic_record(n)
    print(f"synthetic record: {n:,} requests in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    model = TimelineModel.of_finished(record)
    phases = sum(len(b.phases) for b in model.bars)
    print(
        f"model (request_bars + thread_lanes + frozen LOD geometry): {time.perf_counter() - t:.2f} s, "
        f"{phases:,} phase spans, {model.rows} rows, {len(model.lane_ids)} thread lanes"
    )
    # The model build after a run, as the window does it: finish_steps in ~8 ms slices between frames.
    from gui.controller import FINISH_SLICE_S
    from gui.geometry import gc_paused

    steps = TimelineModel(record).finish_steps()
    slices: list[float] = []
    t = time.perf_counter()
    done = False
    while not done:
        t_slice = time.perf_counter()
        with gc_paused():
            while time.perf_counter() < t_slice + FINISH_SLICE_S:
                if next(steps, StopIteration) is StopIteration:
                    done = True
                    break
        slices.append((time.perf_counter() - t_slice) * 1000)
    print(
        f"model build after run (window, sliced): {time.perf_counter() - t:.2f} s in {len(slices)} slices, "
        f"median {statistics.median(slices):.1f} ms, longest {max(slices):.0f} ms"
    )
    axis = TimeAxis()
    canvas = TimelineCanvas(axis)
    canvas.resize(1100, 600)
    canvas.set_model(model)
    strip = LoopStrip(axis, canvas)
    strip.resize(1100, 120)
    strip.set_model(model)
    image = QImage(canvas.size(), QImage.Format.Format_ARGB32_Premultiplied)
    strip_image = QImage(strip.size(), QImage.Format.Format_ARGB32_Premultiplied)
    axis.fit(model.span_ms)
    print(f"run length {model.span_ms / 1000:.1f} s; frame = full repaint of a 1100x600 canvas (median of 5)")
    print(f"  fit (whole run)          {frame_ms(canvas, image):7.2f} ms")
    print(f"  loop strip (whole run)   {frame_ms(strip, strip_image):7.2f} ms")
    mid = model.span_ms / 2
    t = time.perf_counter()
    axis.zoom(0.8, mid)
    step = (time.perf_counter() - t) * 1000 + frame_ms(canvas, image, 1)
    print(f"  one zoom step (wheel)    {step:7.2f} ms")
    for factor, label in ((0.05, "zoom 20x"), (0.01, "zoom 100x (exact rects)"), (0.001, "zoom 1000x")):
        axis.fit(model.span_ms)
        axis.zoom(factor, mid)
        print(f"  {label:<24} {frame_ms(canvas, image):7.2f} ms")
    axis.fit(model.span_ms)
    axis.pan(model.span_ms * 0.01)
    print(f"  pan 1 %                  {frame_ms(canvas, image):7.2f} ms")
    canvas.set_mode(THREADS)
    axis.fit(model.span_ms)
    print(f"  threads view, fit        {frame_ms(canvas, image):7.2f} ms")
    t = time.perf_counter()
    for x in range(200, 1000, 8):
        canvas.tooltip_at(x, 300)
    print(f"  tooltip hit test         {(time.perf_counter() - t) * 1000 / 100:7.2f} ms each")

    # Live: the record replayed as a run fills it, PER_REFRESH requests finishing between two
    # refreshes (the server tops out near 650 req/s here: about 10 per 16 ms frame).
    live_per_refresh = 500
    clients, servers = record.client, record.server
    record.client, record.server, record.finished_ns = [], [], None
    live = TimelineModel(record)
    frames = []
    si = 0
    for n in range(live_per_refresh, len(clients) + 1, live_per_refresh):
        now = clients[n - 1].done_ns + 1
        record.client.extend(clients[len(record.client) : n])
        while si < len(servers) and servers[si].arrival_ns <= now:
            record.server.append(servers[si])
            si += 1
        t = time.perf_counter()
        live.refresh(now)
        frames.append((time.perf_counter() - t) * 1000)
    print(
        f"live refresh, {live_per_refresh} requests finished since the last: {len(frames)} refreshes, "
        f"median {statistics.median(frames):.1f} ms, max {max(frames):.1f} ms; drawn {live.request_count:,} of {n:,}"
    )
    canvas.set_mode("requests")
    canvas.set_model(live)
    print(f"  live frame (not frozen)  {frame_ms(canvas, image):7.2f} ms")


if __name__ == "__main__":
    main()
