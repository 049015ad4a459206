"""What the window adds to a loaded server: an open-loop ``hello`` run, headless and with the window.

Prints numbers (not a test). Each measurement is a fresh child process (a throwaway, migrated
``EXPLORER_DATA_DIR``, a throwaway config directory, Qt's offscreen platform) that starts the
Lab on the app's ``qt`` loop under a ``QApplication`` and then either

* ``headless``: awaits ``Lab.run`` for ``hello`` at the given rate, no window; or
* ``window``: opens the real ``MainWindow`` (1400x900, shown), sets its controls to the same
  run and presses Run, so its timer refreshes the live timeline while the run goes and it
  builds the finished model afterwards.

The two are interleaved, rate by rate and round by round, so drift on the machine hits both.
Per run it reports achieved throughput (completed requests / wall time), the event-loop lag
p50/p99/max from the run's own heartbeat (what the requirement is about), the garbage
collections during the run (count, total, longest; from ``gc.callbacks``, whatever thread
triggered them), and for the window its refresh ticks (count, median, p99, max) and the
time from the end of the run to the finished model being shown.

Run: ``python bench/gui_load.py [--rates 300,600,1000] [--duration 5] [--concurrency 50] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


# -- the child: one measured run ---------------------------------------------------------------------


def child(mode: str, rate: float, duration: float, concurrency: int) -> None:
    import asyncio
    import gc

    sys.path.insert(0, str(ROOT))
    from engine.lab import Lab
    from engine.loops import ensure_qt_app, new_loop
    from engine.plan import make_config

    Lab.prepare()
    app = ensure_qt_app(gui=True)
    app.setOrganizationName("DjangoAsyncExplorer")
    app.setApplicationName("Explorer")
    loop = new_loop("qt", gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind="qt")
    loop.run_until_complete(lab.start())
    config = make_config("hello", concurrency=concurrency, duration_s=duration, rate=rate)
    # Start-up objects out of the collector's sight for both modes (every run also does this at its
    # start, see engine.gcpolicy), so only what a run makes is compared.
    gc.collect()
    gc.freeze()

    collections: list[tuple[int, float]] = []
    started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif recording[0]:
            collections.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    recording = [False]
    gc.callbacks.append(on_gc)
    out: dict[str, object] = {"mode": mode, "rate": rate}
    if mode == "headless":

        async def go():
            recording[0] = True
            try:
                return await lab.run(config)
            finally:
                recording[0] = False

        record = loop.run_until_complete(go())
    else:
        from gui.window import MainWindow

        window = MainWindow(lab)
        window.resize(1400, 900)
        window.show()
        assert window.catalogue.select("hello")
        c = window.controls
        c.amount_kind.setCurrentText("seconds")
        c.duration.setValue(duration)
        c.open_loop.setChecked(True)
        c.rate.setValue(rate)
        c.concurrency.setValue(concurrency)
        assert c.config() == config, (c.config(), config)
        ticks: list[float] = []
        tick = window._tick

        def timed_tick() -> None:
            t = time.perf_counter()
            tick()
            ticks.append((time.perf_counter() - t) * 1000)

        window.timer.timeout.disconnect()
        window.timer.timeout.connect(timed_tick)
        finished_at: list[float] = []
        window.run_finished.connect(lambda _r: finished_at.append(time.perf_counter()))
        run_returned: list[float] = []
        lab_run = lab.run

        async def timed_run(*a, **kw):
            recording[0] = True
            try:
                return await lab_run(*a, **kw)
            finally:
                recording[0] = False
                run_returned.append(time.perf_counter())

        lab.run = timed_run

        async def go():
            assert window.start_run()
            await window.run_task
            # the model may be finished in slices after the run: wait until it is shown
            while window.model is None or not window.model.complete:
                await asyncio.sleep(0.01)
            return window.record, time.perf_counter()

        record, shown_at = loop.run_until_complete(go())
        out["ticks"] = len(ticks)
        out["tick_med_ms"] = statistics.median(ticks) if ticks else 0.0
        out["tick_p99_ms"] = percentile(ticks, 99)
        out["tick_max_ms"] = max(ticks, default=0.0)
        out["finish_ms"] = (shown_at - run_returned[0]) * 1000
        window.close()
    gc.callbacks.remove(on_gc)
    lags = [s.lag_ns / 1e6 for s in record.lag]
    done = [c for c in record.client if c.done_ns is not None]
    ok = [c for c in done if c.ok]
    first = min((c.intended_ns for c in record.client), default=record.started_ns)
    last = max((c.done_ns for c in done), default=first)
    out.update(
        sent=len(record.client),
        ok=len(ok),
        errors=len(record.client) - len(ok),
        rps=len(ok) / max(1e-9, (last - first) / 1e9),
        lag_p50=percentile(lags, 50),
        lag_p99=percentile(lags, 99),
        lag_max=max(lags, default=0.0),
        latency_p99=percentile([(c.done_ns - c.intended_ns) / 1e6 for c in done], 99),
        gc_n=len(collections),
        gc_full=sum(1 for g, _ in collections if g == 2),
        gc_total_ms=sum(d for _, d in collections),
        gc_max_ms=max((d for _, d in collections), default=0.0),
    )
    loop.run_until_complete(lab.close())
    from engine.loops import close_loop

    close_loop(loop)
    print("RESULT " + json.dumps(out), flush=True)


# -- the parent: interleaving and the table -------------------------------------------------------------


def measure(env: dict[str, str], mode: str, rate: float, duration: float, concurrency: int) -> dict[str, float]:
    argv = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--rates",
        str(rate),
        "--duration",
        str(duration),
        "--concurrency",
        str(concurrency),
    ]
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=duration * 10 + 120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{mode} at {rate:g} req/s failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="300,600,1000", help="open-loop rates, comma-separated (req/s)")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--modes", default="headless,window")
    ap.add_argument("--child", choices=("headless", "window"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    if args.child:
        child(args.child, rates[0], args.duration, args.concurrency)
        return
    tmp = Path(tempfile.mkdtemp(prefix="explorer-guiload-"))
    try:
        env = {
            **os.environ,
            "EXPLORER_DATA_DIR": str(tmp / "data"),
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [sys.executable, "-c", "from engine.lab import Lab; Lab.prepare()"], env=env, cwd=ROOT, check=True
        )
        modes = args.modes.split(",")
        results: dict[tuple[str, float], list[dict[str, float]]] = {(m, r): [] for m in modes for r in rates}
        for i in range(args.repeats):
            for rate in rates:
                for mode in modes:
                    res = measure(env, mode, rate, args.duration, args.concurrency)
                    results[(mode, rate)].append(res)
                    extra = (
                        f" ticks {res['ticks']} med {res['tick_med_ms']:.1f} p99 {res['tick_p99_ms']:.1f} "
                        f"max {res['tick_max_ms']:.1f} ms, finish {res['finish_ms']:.0f} ms"
                        if mode == "window"
                        else ""
                    )
                    print(
                        f"round {i + 1} {mode:<8} {rate:6g} req/s: {res['rps']:6.0f} req/s ok, "
                        f"{res['errors']} errors, lag p50 {res['lag_p50']:.1f} p99 {res['lag_p99']:.1f} "
                        f"max {res['lag_max']:.1f} ms; gc {res['gc_n']} ({res['gc_full']} full) "
                        f"total {res['gc_total_ms']:.0f} max {res['gc_max_ms']:.1f} ms{extra}",
                        flush=True,
                    )
        print(
            f"\nmedians over {args.repeats} rounds; hello, open loop, {args.duration:g} s, "
            f"concurrency {args.concurrency}; lag/gc/tick in ms"
        )
        print(
            f"{'mode':<8} {'rate':>6} {'got/s':>6} {'err':>5} {'lag p50':>7} {'p99':>6} {'max':>6} "
            f"{'lat p99':>7} {'gc max':>6} {'gc tot':>6} {'tick med':>8} {'p99':>6} {'max':>6} {'finish':>6}"
        )
        for rate in rates:
            for mode in modes:
                rs = results[(mode, rate)]

                def med(key: str, rs: list[dict[str, float]] = rs) -> float:
                    return statistics.median(r.get(key, 0.0) for r in rs)

                tick = (
                    f"{med('tick_med_ms'):8.1f} {med('tick_p99_ms'):6.1f} {med('tick_max_ms'):6.1f} "
                    f"{med('finish_ms'):6.0f}"
                    if mode == "window"
                    else ""
                )
                print(
                    f"{mode:<8} {rate:6g} {med('rps'):6.0f} {med('errors'):5.0f} {med('lag_p50'):7.1f} "
                    f"{med('lag_p99'):6.1f} {med('lag_max'):6.1f} {med('latency_p99'):7.0f} {med('gc_max_ms'):6.1f} "
                    f"{med('gc_total_ms'):6.0f} {tick}"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
