"""What tracing costs Django itself: CPU per request with the ASGI application called directly.

Why a third bench beside ``bench/throughput.py`` and ``bench/tracing_cost.py``: both load a
real uvicorn over loopback sockets, so a request's CPU includes the server's protocol work and
the load generator's share of the machine, and on a 2-core VM their quartiles span ±10 %.
Here there is no server and no socket: ``hello`` requests are handed to the site's ASGI
application in batches (50 at once) on the ``qt`` loop, with the heartbeat and the watchdog
running as in a served run, so CPU per request (``time.process_time``: every thread, so
asgiref's worker threads and the watchdog's too) is Django's plus what tracing adds to it.
The variants are ``bench/tracing_cost.py``'s (``off``, ``off-run-gc``, ``on``, ``on-no-meter``,
``on-no-watchdog``, ``on-no-sweeps``), switched between batches by the same ``Switch``, each
round starting one variant later; a variant's ratio to ``off`` is taken within each round and
the median over rounds printed with its quartiles.

    python bench/tracing_inprocess.py                          # 16 rounds: off, off-run-gc, on
    python bench/tracing_inprocess.py --parts --rounds 16      # and each part left out

It prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tracing_cost import PARTS, Switch, _quartiles  # noqa: E402

PATH = "/demo/hello/"
IN_FLIGHT = 50
WARM_UP = 200  # requests after each switch, not measured


def _scope() -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _batch(app, count: int) -> None:
    """``count`` hello requests, ``IN_FLIGHT`` at a time, each answered in full."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    async def one() -> None:
        async with gate:
            await app(_scope(), receive, send)

    await asyncio.gather(*(one() for _ in range(count)))


def measure(variants: list[str], rounds: int, per_batch: int) -> dict[str, list[float]]:
    """µs of CPU per request, per variant, one value per round."""
    from embedded_site.bootstrap import asgi_application, prepare_database
    from embedded_site.tracing import collector, loop_activity
    from embedded_site.tracing.heartbeat import run_heartbeat
    from embedded_site.tracing.watchdog import start_watchdog
    from engine import loops

    prepare_database()
    app = asgi_application()
    switch = Switch().switch
    cpu_us: dict[str, list[float]] = {v: [] for v in variants}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        collector.loop_thread_id = collector.note_thread()
        loop_activity.attach(collector, loop)
        heartbeat = loop.create_task(run_heartbeat(collector))
        start_watchdog(collector, beside=heartbeat)
        await _batch(app, 500)  # imports, the first queries, the thread pool
        for n in range(rounds * len(variants)):
            k, i = divmod(n, len(variants))
            variant = variants[(i + k) % len(variants)]
            switch(variant)
            await _batch(app, WARM_UP)
            cpu = time.process_time()
            await _batch(app, per_batch)
            cpu_us[variant].append((time.process_time() - cpu) / per_batch * 1e6)
        switch("off")
        heartbeat.cancel()

    loops.run(main(), "qt")
    return cpu_us


def report(cpu_us: dict[str, list[float]]) -> None:
    base = cpu_us["off"]
    print(f"{'variant':16s} {'µs CPU/request':>15s} {'off / variant':>14s}  (quartiles)")
    for variant, values in cpu_us.items():
        paired = [b / v for v, b in zip(values, base)]
        low, high = _quartiles(paired)
        print(
            f"{variant:16s} {statistics.median(values):15.1f} {statistics.median(paired):14.3f}  ({low:.3f}-{high:.3f})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="requests measured per variant per round")
    parser.add_argument("--parts", action="store_true", help="also each part of tracing left out")
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1:
        parser.error("--rounds and --requests must be at least 1")
    variants = ["off", "off-run-gc", "on"] + ([p for p in PARTS if p != "off-run-gc"] if args.parts else [])
    print(f"{args.rounds} rounds of {args.requests} {PATH} requests per variant, {IN_FLIGHT} at once, in-process")
    report(measure(variants, args.rounds, args.requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
