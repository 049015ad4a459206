"""What tracing costs a saturated server, measured side by side in one server process.

Why a second bench beside ``bench/throughput.py``: on a shared 2-core VM the speed of the
machine moves by 10-30 % from one second to the next, and from one server process to the
next, so two server processes measured a minute apart compare the machine as much as the
tracing.  Here one embedded server (the ``qt`` loop, as in the window) is loaded by ``wrk``
the whole time and switches its tracing between *variants* every ``--window`` seconds, round
robin, each round starting one variant later (so that each variant follows each other as
often): ``off`` (``collector.enabled = False``, nothing recorded, Python's own garbage
collection: a server the lab is not measuring), ``on`` (a recording run as the lab makes one:
spans, thread hops, the loop meter, the watchdog, lag samples, garbage sweeps, and the run's
collection policy, ``engine.gcpolicy.no_full_collections``), and with ``--parts`` ``on`` with
one part left out, and ``off-run-gc``: ``off`` under the run's collection policy, so that
``on`` / ``off-run-gc`` is what tracing alone costs, the policy's own effect taken out.
Each window starts after a short settle (the switch itself is not measured) and reports
requests finished, the process's CPU seconds (every thread) and the time garbage collection
took (``gc.callbacks``).  A variant's ratio to ``off`` (and to ``off-run-gc``) is taken within
each round (windows seconds apart) and the median over rounds is printed with its quartiles.

    python bench/tracing_cost.py                       # 240 s: on and off
    python bench/tracing_cost.py --parts --seconds 400 # also each part left out, off-run-gc

It prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
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
sys.path.insert(0, str(ROOT))
PATH = "/demo/hello/"
SETTLE_S = 0.4  # after a switch, before the window is measured
PARTS = ("on-no-meter", "on-no-watchdog", "on-no-sweeps", "off-run-gc")


# -- the server (a child process) ----------------------------------------------------------


class Switch:
    """Puts the server process's tracing into one variant (see the module docstring); every
    switch starts alike: what the last variant recorded or froze is dropped first."""

    def __init__(self) -> None:
        from embedded_site.tracing import garbage, watchdog

        self.defaults = (watchdog.LATE_NS, watchdog.TICK_S, garbage.SWEEP_EVERY_REQUESTS)
        self.policy = contextlib.ExitStack()  # the run's collection policy, while a variant has it on

    def switch(self, variant: str) -> None:
        from embedded_site.tracing import collector, garbage, watchdog
        from engine.gcpolicy import no_full_collections

        self.policy.close()
        gc.unfreeze()  # what the policy and the sweeps froze: every window starts alike
        watchdog.LATE_NS, watchdog.TICK_S, garbage.SWEEP_EVERY_REQUESTS = self.defaults
        if collector.recording:
            collector.stop_recording()
        collector.enabled = False
        collector.reset()  # what the last window recorded is dropped: every window starts alike
        gc.collect()
        if variant != "off":
            self.policy.enter_context(no_full_collections())
        if variant.startswith("off"):
            return
        collector.enabled = True
        collector.start_recording()
        if variant == "on-no-meter":
            collector.loop_meter.stop()
        elif variant == "on-no-watchdog":  # never late enough to sample, the ticker at its idle pace
            watchdog.LATE_NS, watchdog.TICK_S = 1 << 62, watchdog.IDLE_S
        elif variant == "on-no-sweeps":
            garbage.SWEEP_EVERY_REQUESTS = 1 << 62


def _serve(variants: list[str], window_s: float, log_path: str) -> None:
    from embedded_site.bootstrap import asgi_application, prepare_database
    from engine import loops
    from engine.server import EmbeddedServer

    prepare_database()
    app = asgi_application()
    finished = [0]

    async def counted(scope, receive, send):  # the same few ns in every variant
        await app(scope, receive, send)
        if scope["type"] == "http":
            finished[0] += 1

    gc_ns = [0, 0]  # total, start of the collection under way

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_ns[1] = time.perf_counter_ns()
        else:
            gc_ns[0] += time.perf_counter_ns() - gc_ns[1]

    gc.callbacks.append(on_gc)
    switch = Switch().switch

    async def main() -> None:
        server = EmbeddedServer(counted, port=0)
        await server.start()
        print(f"READY {server.port}", flush=True)
        n = 0
        with open(log_path, "a") as log:
            while True:
                # Each round starts one variant later: a variant measured right after another
                # (e.g. after ``off``'s full collections) follows each of the others as often.
                k, i = divmod(n, len(variants))
                variant = variants[(i + k) % len(variants)]
                switch(variant)
                await asyncio.sleep(SETTLE_S)
                cpu, done, wall, gcs = time.process_time(), finished[0], time.perf_counter_ns(), gc_ns[0]
                await asyncio.sleep(window_s)
                row = {
                    "round": n // len(variants),
                    "variant": variant,
                    "requests": finished[0] - done,
                    "cpu_s": time.process_time() - cpu,
                    "wall_s": (time.perf_counter_ns() - wall) / 1e9,
                    "gc_s": (gc_ns[0] - gcs) / 1e9,
                }
                log.write(json.dumps(row) + "\n")
                log.flush()
                n += 1

    loops.run(main(), "qt")


# -- the parent: load and report ---------------------------------------------------------------


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def report(rows: list[dict], variants: list[str]) -> None:
    rounds: dict[int, dict[str, dict]] = {}
    for row in rows:
        rounds.setdefault(row["round"], {})[row["variant"]] = row
    complete = [r for r in rounds.values() if all(v in r for v in variants)]
    print(f"{len(complete)} complete rounds\n")
    print(f"{'variant':<16} {'req/s':>7} {'µs CPU/req':>11} {'GC % of CPU':>12}   medians over rounds")
    for v in variants:
        mine = [r[v] for r in complete]
        rps = statistics.median(x["requests"] / x["wall_s"] for x in mine)
        cpu = statistics.median(x["cpu_s"] * 1e6 / x["requests"] for x in mine if x["requests"])
        gcs = statistics.median(x["gc_s"] / x["cpu_s"] for x in mine if x["cpu_s"])
        print(f"{v:<16} {rps:7.0f} {cpu:11.0f} {gcs:12.1%}")
    for base in ("off", "off-run-gc"):
        if base in variants:
            _ratios(complete, [v for v in variants if v not in ("off", base)], base)


def _ratios(complete: list[dict[str, dict]], variants: list[str], base: str) -> None:
    """Each variant's req/s and requests per CPU second over ``base``'s, round by round."""
    print()
    head = f"{'ratio to ' + base:<19} {'req/s: median':>14} {'quartiles':>14}"
    print(f"{head} {'req per CPU s: median':>22} {'quartiles':>14}")
    for v in variants:
        by_rps = [r[v]["requests"] / r[v]["wall_s"] / (r[base]["requests"] / r[base]["wall_s"]) for r in complete]
        by_cpu = [
            (r[v]["requests"] / r[v]["cpu_s"]) / (r[base]["requests"] / r[base]["cpu_s"])
            for r in complete
            if r[v]["cpu_s"] and r[base]["cpu_s"]
        ]
        lo, hi = _quartiles(by_rps)
        clo, chi = _quartiles(by_cpu)
        print(
            f"{v:<19} {statistics.median(by_rps):14.3f} {f'{lo:.3f}-{hi:.3f}':>14} "
            f"{statistics.median(by_cpu):22.3f} {f'{clo:.3f}-{chi:.3f}':>14}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=240, help="how long wrk loads the server")
    parser.add_argument("--window", type=float, default=2.0, help="seconds measured per variant and round")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--parts", action="store_true", help="also 'on' without the meter, the watchdog, the sweeps")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server child, variants comma-separated
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve.split(","), args.window, args.log)
        return 0
    from throughput import ensure_wrk  # bench/ is on sys.path as the script's own folder

    wrk = ensure_wrk()
    variants = ["on", *(PARTS if args.parts else ()), "off"]
    pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    with tempfile.TemporaryDirectory(prefix="explorer-tracing-cost-") as tmp:
        log = Path(tmp) / "windows.jsonl"
        cmd = [sys.executable, __file__, "--serve", ",".join(variants), "--window", str(args.window), "--log", str(log)]
        env = dict(os.environ, EXPLORER_DATA_DIR=str(Path(tmp) / "data"), QT_QPA_PLATFORM="offscreen")
        server = subprocess.Popen(
            (["taskset", "-c", "1"] if pin else []) + cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=(Path(tmp) / "server.log").open("w"),
            text=True,
        )
        try:
            line = server.stdout.readline().split()
            if len(line) != 2 or line[0] != "READY":
                sys.exit(f"the server did not start:\n{(Path(tmp) / 'server.log').read_text()}")
            url = f"http://127.0.0.1:{line[1]}{PATH}"
            print(
                f"wrk -t1 -c{args.connections} -d{args.seconds}s {PATH} against one server switching "
                f"{', '.join(variants)} every {args.window + SETTLE_S:.1f} s"
                + ("; server on CPU 1, wrk on CPU 0" if pin else ""),
                flush=True,
            )
            load = (["taskset", "-c", "0"] if pin else []) + [wrk, "-t1", f"-c{args.connections}", f"-d{args.seconds}s"]
            subprocess.run([*load, url], check=True, capture_output=True)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        rows = [json.loads(x) for x in log.read_text().splitlines()]
    report(rows[len(variants) :], variants)  # the first round warms the server up
    return 0


if __name__ == "__main__":
    sys.exit(main())
