"""Does the live timeline keep up?  A real run in the real window, frame by frame.

Runs ``hello`` (closed loop, default 5,000 requests at concurrency 10: the server's top
rate) in a ``MainWindow`` on the offscreen platform, the server on the window's loop, and
after every refresh of the live picture prints what the record says against what the
canvas holds: requests finished vs. drawn (settled bars plus finished provisional ones),
and client requests in flight vs. the live in-flight curve.  The target: drawn trails
finished by at most one refresh (reports that land between the refresh and the count).
Prints numbers, it is not a test.  Run: ``python bench/live_timeline.py [requests] [concurrency]``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("EXPLORER_DATA_DIR", tempfile.mkdtemp(prefix="explorer-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    from engine.lab import Lab
    from engine.loops import new_loop

    Lab.prepare()
    loop = new_loop("qt", gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind="qt")
    loop.run_until_complete(lab.start())
    from gui.window import MainWindow

    window = MainWindow(lab)
    window.resize(1400, 900)
    window.show()
    assert window.catalogue.select("hello")
    c = window.controls
    c.amount_kind.setCurrentText("requests")
    c.open_loop.setChecked(False)
    c.requests.setValue(requests)
    c.concurrency.setValue(concurrency)
    frames: list[tuple[float, int, int, int, int, float]] = []
    tick = window._tick
    started = [0.0]

    def measured_tick() -> None:
        t = time.perf_counter()
        tick()
        cost = (time.perf_counter() - t) * 1000
        model = window.model
        if model is None or model.complete:
            return
        clients = list(window.record.client)
        done = sum(1 for r in clients if r.done_ns is not None)
        flying = sum(1 for r in clients if r.sent_ns is not None and r.done_ns is None)
        drawn = len(model.bars) + sum(1 for b in model.live_bars if not b.in_flight)
        frames.append((t - started[0], done, drawn, flying, int(model.inflight_points[-1].y()), cost))

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(measured_tick)

    async def go() -> None:
        started[0] = time.perf_counter()
        window.start_run()
        while window.run_task is None or not window.run_task.done():
            await asyncio.sleep(0.05)

    loop.run_until_complete(go())
    wall = time.perf_counter() - started[0]
    print(f"hello × {requests:,}, concurrency {concurrency}, in the window: {wall:.1f} s, {len(frames)} live frames")
    print(f"{'t (s)':>6} {'finished':>8} {'drawn':>7} {'behind':>6} {'in flight':>9} {'curve':>5} {'frame ms':>8}")
    step = max(1, len(frames) // 25)
    for t, done, drawn, flying, curve, cost in frames[::step]:
        print(f"{t:6.2f} {done:8d} {drawn:7d} {done - drawn:6d} {flying:9d} {curve:5d} {cost:8.1f}")
    behind = [done - drawn for _t, done, drawn, *_ in frames]
    off = [abs(flying - curve) for *_x, flying, curve, _c in frames]
    costs = [f[-1] for f in frames]
    print(f"behind (finished - drawn) per frame: median {statistics.median(behind):.0f}, max {max(behind)}")
    print(
        f"in-flight curve vs record: median |diff| {statistics.median(off):.0f}, max {max(off)}; "
        f"frames with 0 drawn while some in flight: {sum(1 for *_x, fl, cu, _c in frames if fl and not cu)}"
    )
    print(f"refresh + paint per frame: median {statistics.median(costs):.1f} ms, max {max(costs):.1f} ms")
    model = window.model
    print(f"finished picture: {len(model.bars):,} bars of {requests:,}")
    loop.run_until_complete(window.wait_idle())
    window.close()
    loop.run_until_complete(lab.close())


if __name__ == "__main__":
    main()
