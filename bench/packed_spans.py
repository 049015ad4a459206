"""What packed spans cost the stats and the exports: one real hello run, then ``compute`` and
the three file exports (trace, CSV, run file) timed on its record as the run left it (spans
packed) and on the same record with every request's spans turned back into a list of Span
objects, rounds alternating, in one process.

    python bench/packed_spans.py                    # 20,000 requests, 3 rounds
    python bench/packed_spans.py --requests 100000 --rounds 1

Prints the CPU seconds of each step per round and the median ratio packed / lists; the memory
side is ``bench/memory.py``'s.  It is a benchmark that prints numbers, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("EXPLORER_DATA_DIR", tempfile.mkdtemp(prefix="explorer-bench-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from embedded_site.tracing.spans import PackedSpans
    from engine.exports.chrome_trace import write_chrome_trace
    from engine.exports.requests_csv import write_csv
    from engine.exports.run_json import write_json
    from engine.lab import Lab
    from engine.plan import make_config
    from engine.stats import compute

    Lab.prepare()
    loop = asyncio.new_event_loop()
    lab = Lab(loop_kind="asyncio")
    loop.run_until_complete(lab.start())
    config = make_config("hello", concurrency=args.concurrency, requests=args.requests)
    record = loop.run_until_complete(lab.run(config))
    packed = [server.spans for server in record.server]
    lists = [list(spans) for spans in packed]
    share = sum(isinstance(spans, PackedSpans) for spans in packed) / max(1, len(packed))
    print(f"hello -c {args.concurrency} -n {args.requests}: {share:.1%} of the requests' spans packed")
    out = Path(tempfile.mkdtemp(prefix="explorer-packed-"))
    steps = (
        ("stats", lambda: compute(record)),
        ("trace", lambda: write_chrome_trace(record, out / "t.json")),
        ("csv", lambda: write_csv(record, out / "r.csv")),
        ("record", lambda: write_json(record, out / "r.json")),
    )
    totals: dict[str, list[float]] = {"packed": [], "lists": []}
    for n in range(1, args.rounds + 1):
        for label, spans in (("packed", packed), ("lists", lists)):
            for server, kept in zip(record.server, spans):
                server.spans = kept
            record._stats_cache = None
            cpu = {}
            for name, step in steps:
                started = time.process_time()
                step()
                cpu[name] = time.process_time() - started
            totals[label].append(sum(cpu.values()))
            shown = " ".join(f"{name} {s:.2f}" for name, s in cpu.items())
            print(f"round {n} {label:>6}: {shown} = {sum(cpu.values()):.2f} s CPU", flush=True)
    ratios = [p / q for p, q in zip(totals["packed"], totals["lists"])]
    print(f"packed / lists, median of {args.rounds}: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
