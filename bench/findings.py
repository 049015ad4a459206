"""How long stats and findings take on a big record: a real hello run, then the same
requests tiled out to 100,000 (shifted in time), each timed with ``engine.stats.compute``.

    python bench/findings.py                 # a 20,000-request run, tiled to 100,000
    python bench/findings.py --requests 5000 --tile 100000

Prints seconds per compute() (best and median of --repeat, wall and CPU); the target is
under 1 s at 100,000 requests.  It is a benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("EXPLORER_DATA_DIR", tempfile.mkdtemp(prefix="explorer-bench-"))


def real_run(requests: int, concurrency: int):
    from engine.lab import Lab
    from engine.plan import make_config

    Lab.prepare()

    async def measure():
        lab = Lab(loop_kind="asyncio")
        await lab.start()
        try:
            return await lab.run(make_config("hello", concurrency=concurrency, requests=requests))
        finally:
            await lab.close()

    return asyncio.run(measure())


def tiled(record, total: int):
    """The record's requests repeated, each copy shifted past the previous one, to ``total``."""
    clients = list(record.client)
    by_client = record.server_by_client_id()
    span = max(c.done_ns for c in clients) - min(c.intended_ns for c in clients) + 1_000_000
    big = copy.copy(record)
    big.client, big.server, big.lag, big.stalls = [], [], [], []
    copies = -(-total // len(clients))
    for k in range(copies):
        shift = k * span
        for c in clients:
            if len(big.client) >= total:
                break
            new_id = len(big.client) + 1
            big.client.append(
                replace(
                    c,
                    id=new_id,
                    intended_ns=c.intended_ns + shift,
                    sent_ns=c.sent_ns + shift,
                    first_byte_ns=c.first_byte_ns + shift if c.first_byte_ns else None,
                    done_ns=c.done_ns + shift,
                )
            )
            s = by_client.get(c.id)
            if s is not None:
                spans = [replace(sp, start_ns=sp.start_ns + shift, end_ns=sp.end_ns + shift) for sp in s.spans]
                big.server.append(
                    replace(
                        s,
                        client_id=new_id,
                        arrival_ns=s.arrival_ns + shift,
                        response_start_ns=s.response_start_ns + shift if s.response_start_ns else None,
                        end_ns=s.end_ns + shift,
                        spans=spans,
                    )
                )
        big.lag.extend(replace(x, t_ns=x.t_ns + shift) for x in record.lag)
    return big


def timed(record, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each compute(): on a shared machine the CPU time is the
    steadier figure (the wall time includes waiting for a core)."""
    from engine.stats import compute

    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        compute(record)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--tile", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    record = real_run(args.requests, args.concurrency)
    print(f"real run: hello -n {args.requests} -c {args.concurrency} in {time.perf_counter() - start:.1f} s")
    for name, rec in (("real", record), ("tiled", tiled(record, args.tile))):
        spans = sum(len(s.spans) for s in rec.server)
        wall, cpu = timed(rec, args.repeat)
        print(
            f"{name:6} {len(rec.client):7,} requests, {spans:9,} spans: compute() wall best {min(wall):.3f} s, "
            f"median {statistics.median(wall):.3f} s; CPU best {min(cpu):.3f} s, median {statistics.median(cpu):.3f} s"
        )


if __name__ == "__main__":
    main()
