"""How long a run file takes to read and write, how big it is, and what reading it costs in memory.

Each step runs in a child process of its own, so its peak RSS is that step's alone:

- ``load``: ``engine.runref.load_ref(REF)`` (a history id or a file), then the stats;
- ``dump``: the same record written again as a run file (gzip) and as ``--record`` JSON.

It prints numbers; it is not a test.  ``python bench/runfile.py 1`` (history run #1 of
``EXPLORER_DATA_DIR``) or ``python bench/runfile.py saved.run.json.gz``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(ref: str, step: str) -> None:
    sys.path.insert(0, str(ROOT))
    from engine.runfile import dumps_run, write_plain
    from engine.runref import load_ref

    start = time.perf_counter_ns()
    record = load_ref(ref)
    loaded = time.perf_counter_ns()
    record.final_stats()
    stats = time.perf_counter_ns()
    out: dict[str, float] = {
        "requests": len(record.client),
        "load_s": (loaded - start) / 1e9,
        "stats_s": (stats - loaded) / 1e9,
    }
    if step == "dump":
        t = time.perf_counter_ns()
        data = dumps_run(record)
        out["dump_s"] = (time.perf_counter_ns() - t) / 1e9
        out["run_file_mb"] = len(data) / 1e6
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter_ns()
            path = write_plain(record, Path(folder) / "r.json")
            out["record_json_s"] = (time.perf_counter_ns() - t) / 1e9
            out["record_json_mb"] = path.stat().st_size / 1e6
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="a history id or a run file")
    parser.add_argument("--child", choices=("load", "dump"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.ref, args.child)
        return 0
    for step in ("load", "dump"):
        done = subprocess.run(
            [sys.executable, __file__, args.ref, "--child", step], capture_output=True, text=True, check=False
        )
        if done.returncode:
            print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"{step} failed", file=sys.stderr)
            return 1
        figures = json.loads(done.stdout)
        print(step, "  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
