"""What the loop meter adds to each callback the event loop runs, timed on its own.

Why: ``bench/tracing_cost.py`` measures the meter inside a saturated server, where the machine's
own swings (±10 % from one window to the next) hide a part that costs a few per cent.  Here
one asyncio loop runs rounds of ``--callbacks`` empty callbacks (one ``_run_once`` each) with
its own ``_run_once`` and with the meter's (``embedded_site.tracing.loop_activity.LoopMeter``),
alternating, and prints the process's CPU ns per callback for each and their difference:
the meter's cost per callback, which times a request's ~18 callbacks (hello) gives its cost
per request.

    python bench/loop_meter.py [--rounds 7] [--callbacks 200]

It prints numbers; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedded_site.tracing.loop_activity import LoopMeter  # noqa: E402


def _ns_per_callback(loop: asyncio.AbstractEventLoop, callbacks: int, iterations: int) -> float:
    def nothing() -> None:
        pass

    context = contextvars.copy_context()
    start = time.process_time_ns()
    for _ in range(iterations):
        for _ in range(callbacks):
            loop.call_soon(nothing, context=context)
        loop._run_once()  # type: ignore[attr-defined]  # the meter's, when it is on
    return (time.process_time_ns() - start) / (callbacks * iterations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--callbacks", type=int, default=200, help="callbacks per loop iteration")
    parser.add_argument("--iterations", type=int, default=2000, help="loop iterations per measurement")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    meter = LoopMeter(loop, "asyncio")
    meter.new_activity()
    plain, metered = [], []
    for n in range(args.rounds):
        plain.append(_ns_per_callback(loop, args.callbacks, args.iterations))
        meter.start()
        metered.append(_ns_per_callback(loop, args.callbacks, args.iterations))
        meter.stop()
        print(f"round {n + 1}: plain {plain[-1]:6.0f} ns, metered {metered[-1]:6.0f} ns per callback", flush=True)
    extra = statistics.median(m - p for p, m in zip(plain, metered))
    print(
        f"\nmedian: plain {statistics.median(plain):.0f} ns, metered {statistics.median(metered):.0f} ns per callback;"
        f" the meter adds {extra:.0f} ns a callback (paired rounds), ~{extra * 18 / 1000:.1f} µs a hello request"
    )
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
