"""Many writers on SQLite: does ``orm-async-write`` under load ever fail with ``database is locked``?

    python bench/write_lock.py [--rounds 3] [--concurrency 200] [--requests 1000] [--parallel 1]

Each round runs ``main.py run orm-async-write -c C -n N --json`` on a fresh throwaway
``EXPLORER_DATA_DIR``; ``--parallel K`` runs K of them at once (separate databases, so they
compete only for the CPUs, as on a busy machine).  Prints per run the statuses, the
``database is locked`` failures, latency p99/max and wall time, then the totals.  The
target is 0 failures: the site's busy timeout (settings.py) must outlast SQLite's unordered
lock polling at the largest concurrency the lab allows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(concurrency: int, requests: int, data_dir: str) -> subprocess.Popen[str]:
    env = {**os.environ, "EXPLORER_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "main.py"), "run", "orm-async-write", "-c", str(concurrency)]
    return subprocess.Popen(
        [*command, "-n", str(requests), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", "-c", type=int, default=200)
    parser.add_argument("--requests", "-n", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=1, help="runs at once in each round")
    args = parser.parse_args()
    failed = total = 0
    print(f"orm-async-write -c {args.concurrency} -n {args.requests}, {args.parallel} at once, {args.rounds} rounds")
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as tmp:
            procs = [start(args.concurrency, args.requests, f"{tmp}/{i}") for i in range(args.parallel)]
            for proc in procs:
                out, err = proc.communicate()
                if proc.returncode != 0:
                    print(f"round {round_}: exit {proc.returncode}: {err.strip()[-300:]}")
                    continue
                doc = json.loads(out)
                locked = doc["exceptions"].get("OperationalError", 0)
                failed += locked
                total += doc["requests"]
                lat = doc["latency_ms"]
                print(
                    f"round {round_}: statuses {doc['statuses']}  OperationalError {locked}  "
                    f"p99 {lat['p99']:.0f} ms  max {lat['max']:.0f} ms  wall {doc['wall_s']:.1f} s"
                )
    print(f"total: {failed} OperationalError (database is locked) 500s in {total} requests")


if __name__ == "__main__":
    main()
