"""The app's own load driver against wrk, on the same embedded server: is the driver the bottleneck?

    python bench/driver.py [--rounds 5] [--seconds 5] [--connections 50] [--loop qt]

Starts ``main.py serve`` (the embedded server on the chosen loop) in a subprocess, then
alternates rounds of Debian's ``wrk`` and of the app's driver (``engine.driver``: its own
process, h11 over asyncio, one keep-alive connection per virtual user), each hitting
``/demo/hello/`` for the same time with the same number of connections.  Prints each
round's requests/s, the medians and the ratio driver / wrk (target >= 0.80).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_server(loop: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "EXPLORER_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", "--port", "0", "--loop", loop],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"server did not start: {line}{proc.stderr.read()}")
    return proc, match.group(1)


def wrk_round(url: str, seconds: float, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"{url}/demo/hello/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def driver_round(url: str, seconds: float, connections: int, process) -> float:
    from engine.config import Stream
    from engine.driver import LoadDriver, Target

    done = threading.Event()
    driver = LoadDriver(
        [Target(Stream("hello", concurrency=connections, duration_s=seconds), f"{url}/demo/hello/")],
        on_finished=done.set,
        process=process,
    )
    driver.start()
    done.wait(seconds + 60)
    ok = [r for r in driver.records if r.status == 200 and r.done_ns]
    wall = (max(r.done_ns for r in ok) - min(r.sent_ns for r in ok)) / 1e9
    return len(ok) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--loop", default="qt", choices=("qt", "qasync", "asyncio"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    from engine.driver import ClientProcess

    with tempfile.TemporaryDirectory(prefix="explorer-bench-") as data_dir:
        server, url = start_server(args.loop, data_dir)
        process = ClientProcess()
        try:
            wrk_round(url, 1, args.connections)  # warm up: threads, connections, caches
            rows = []
            for i in range(1, args.rounds + 1):
                w = wrk_round(url, args.seconds, args.connections)
                d = driver_round(url, args.seconds, args.connections, process)
                rows.append((w, d))
                print(f"round {i}: wrk {w:8.1f} req/s   app driver {d:8.1f} req/s   ratio {d / w:.2f}", flush=True)
        finally:
            process.close()
            server.terminate()
            server.wait(timeout=10)
    wrk_median = statistics.median(w for w, _ in rows)
    driver_median = statistics.median(d for _, d in rows)
    print(f"\nmedian: wrk {wrk_median:.1f} req/s, app driver {driver_median:.1f} req/s")
    print(f"app driver / wrk = {driver_median / wrk_median:.2f}  (target >= 0.80)")
    print(
        f"({args.rounds} rounds x {args.seconds:g} s, {args.connections} connections, server loop {args.loop}, "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
