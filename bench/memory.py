"""Peak memory and export time of a big ``main.py run``: does a 100,000-request run fit in 300 MB?

Each size runs ``main.py run hello -c 50 -n N --trace --csv --record --json`` in a child
process of its own (a fresh ``EXPLORER_DATA_DIR`` and a free port) and prints:

- the child's peak RSS over its whole life, exports included (``os.wait4``'s ``ru_maxrss``),
  and its peak RSS when the run had ended, before stats and exports began;
- the seconds spent in stats (``engine.stats.compute``) and in each exporter, wall clock and
  the process's CPU time (``time.process_time``: what a busy machine moves less), timed by
  wrapping those functions in the child before ``main.py``'s own code runs (the same
  code path as the command, only with clocks around it);
- the sizes of the three files written.

It prints numbers; it is not a test.  ``python bench/memory.py --requests 10000 100000``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "MEMORY-BENCH "
WRITERS = (("chrome_trace", "write_chrome_trace"), ("requests_csv", "write_csv"), ("run_json", "write_json"))
# With --reports: the HTML report and the report card (PNG, SVG) too.
REPORT_WRITERS = (("html_report", "write_html"), ("card_png", "write_png"), ("card_svg", "write_svg"))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_now_mb() -> float:
    """Resident memory now (not the peak so far): what stats and exports start from."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(argv: list[str]) -> int:
    """Run main.py's command line in this process with clocks around stats and the writers."""
    sys.path.insert(0, str(ROOT))
    import importlib

    import engine.stats

    times: dict[str, float] = {}
    cpu_times: dict[str, float] = {}  # the process's CPU seconds: less moved by other work on the machine
    at_end_of_run: list[float] = []
    after: dict[str, float] = {}  # peak RSS when each step first returned

    def timed(name: str, func):
        def wrapper(*args, **kwargs):
            if not at_end_of_run:
                at_end_of_run.extend((_peak_rss_mb(), _rss_now_mb()))
            start, cpu = time.perf_counter_ns(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + (time.perf_counter_ns() - start) / 1e9
                cpu_times[name] = cpu_times.get(name, 0.0) + time.process_time() - cpu
                after.setdefault(name, _peak_rss_mb())

        return wrapper

    engine.stats.compute = timed("stats", engine.stats.compute)
    for module_name, name in WRITERS + REPORT_WRITERS:
        module = importlib.import_module(f"engine.exports.{module_name}")
        setattr(module, name, timed(name, getattr(module, name)))
    import main

    status = main.main(argv)
    report = {
        "times_s": times,
        "cpu_s": cpu_times,
        "peak_rss_at_end_of_run_mb": at_end_of_run[0] if at_end_of_run else None,
        "rss_at_end_of_run_mb": at_end_of_run[1] if at_end_of_run else None,
        "peak_rss_after_mb": after,
    }
    print(MARK + json.dumps(report), file=sys.stderr, flush=True)
    return status


def measure(requests: int, concurrency: int, reports: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="explorer-memory-") as tmp:
        out = Path(tmp)
        files = {"trace": out / "t.json", "csv": out / "r.csv", "record": out / "r.json"}
        if reports:
            files |= {"html": out / "r.html", "png": out / "r.png", "svg": out / "r.svg"}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "run", "hello"]
        cmd += ["-c", str(concurrency), "-n", str(requests), "--port", "0", "--json"]
        for flag, path in files.items():
            cmd += [f"--{flag}", str(path)]
        env = dict(os.environ, EXPLORER_DATA_DIR=str(out / "data"), QT_QPA_PLATFORM="offscreen")
        started = time.perf_counter_ns()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate()
        wall_s = (time.perf_counter_ns() - started) / 1e9
        # communicate() has reaped the child; its rusage is in RUSAGE_CHILDREN, but that is the
        # maximum over every child so far, so each size runs in a fresh bench process (below).
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        marked = [json.loads(line[len(MARK) :]) for line in stderr.splitlines() if line.startswith(MARK)]
        # Exit 1 with a summary is an incomplete run (e.g. a loaded machine hit the run's time
        # limit): what it measured and exported is still measured, and said to be partial.
        if not marked or proc.returncode not in (0, 1):
            sys.exit(f"main.py run failed ({proc.returncode}):\n{stderr[-3000:]}")
        report = marked[0]
        summary = json.loads(stdout.strip().splitlines()[-1])
        return {
            "requests": requests,
            "completed": summary.get("completed"),
            "incomplete": summary.get("incomplete"),
            "throughput_rps": summary.get("throughput_rps"),
            "loop_lag_ms": summary.get("loop_lag_ms"),
            "wall_s": round(wall_s, 1),
            "peak_rss_mb": round(peak_mb, 1),
            "peak_rss_at_end_of_run_mb": round(report["peak_rss_at_end_of_run_mb"] or 0, 1),
            "rss_at_end_of_run_mb": round(report["rss_at_end_of_run_mb"] or 0, 1),
            "times_s": {k: round(v, 2) for k, v in report["times_s"].items()},
            "stats_and_exports_s": round(sum(report["times_s"].values()), 2),
            "cpu_s": {k: round(v, 2) for k, v in report["cpu_s"].items()},
            "stats_and_exports_cpu_s": round(sum(report["cpu_s"].values()), 2),
            "peak_rss_after_mb": {k: round(v) for k, v in report["peak_rss_after_mb"].items()},
            "file_mb": {k: round(p.stat().st_size / 1e6, 1) for k, p in files.items() if p.exists()},
        }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return _child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--reports", action="store_true", help="also write --html, --png and --svg")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: measure one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.requests[0], args.concurrency, args.reports)))
        return 0
    reports = " --html --png --svg" if args.reports else ""
    print(f"hello -c {args.concurrency}, --trace --csv --record{reports}; peak RSS of the main.py run process")
    header = f"{'requests':>9} {'peak MB':>8} {'end-of-run MB':>14} {'stats s':>8} {'trace s':>8} {'csv s':>6} "
    header += f"{'record s':>9} {'total s':>8} {'req/s':>7} {'lag p99/max ms':>15}  files MB"
    print(header)
    for n in args.requests:
        # One bench process per size, so RUSAGE_CHILDREN is that size's child alone.
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", "--requests", str(n)]
        cmd += ["--concurrency", str(args.concurrency)] + (["--reports"] if args.reports else [])
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        r = json.loads(line)
        t, lag = r["times_s"], r["loop_lag_ms"] or {}
        print(
            f"{r['requests']:>9} {r['peak_rss_mb']:>8.0f} {r['peak_rss_at_end_of_run_mb']:>14.0f} "
            f"{t.get('stats', 0):>8.2f} {t.get('write_chrome_trace', 0):>8.2f} {t.get('write_csv', 0):>6.2f} "
            f"{t.get('write_json', 0):>9.2f} {r['stats_and_exports_s']:>8.2f} {r['throughput_rps'] or 0:>7.0f} "
            f"{lag.get('p99', 0):>7.1f}/{lag.get('max', 0):<7.1f}  "
            f"{r['file_mb']}",
            flush=True,
        )
        if r["incomplete"]:
            print(f"{'':>9} INCOMPLETE: {r['completed']} requests completed: {r['incomplete']}", flush=True)
        print(f"{'':>9} RSS MB when stats began (not the peak so far): {r['rss_at_end_of_run_mb']:.0f}", flush=True)
        print(f"{'':>9} peak RSS MB when each step ended: {r['peak_rss_after_mb']}", flush=True)
        print(f"{'':>9} CPU s: {r['cpu_s']}, stats + exports {r['stats_and_exports_cpu_s']:.2f}", flush=True)
        if args.reports:
            shown = {name: t.get(name, 0) for _, name in REPORT_WRITERS}
            print(f"{'':>9} report exports s: {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
