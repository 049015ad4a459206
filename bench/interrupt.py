"""How fast ``main.py run`` answers a refusal, a signal and a second signal, and what it keeps.

Prints, per round and as medians:

* refusal: seconds from start to exit for a run refused for its export path (nothing runs);
* stop: seconds from a SIGINT sent 3 s into a 30 s run to the process's exit, with its
  summary, three exports written and the number of requests kept;
* second: seconds from a second SIGINT (0.3 s after the first, while three 3-second sync
  views hold the orderly stop) to the exit.

A benchmark, not a test: it prints numbers.  Each round uses a throwaway data dir.

    python bench/interrupt.py --rounds 5
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
now = time.perf_counter_ns


def _start(args: list[str], cwd: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_driver(proc: subprocess.Popen[bytes]) -> None:
    """Until the run's load-driver process exists (it starts once the server is up)."""
    while proc.poll() is None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == proc.pid:
                        if b"engine.clientproc" in (entry / "cmdline").read_bytes():
                            return
                except (OSError, ValueError):
                    continue
        time.sleep(0.01)


def one_round(env: dict[str, str]) -> tuple[float, float, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        began = now()
        refused = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "run", "hello", "-d", "600", "--csv", "/no/such/dir/r.csv"],
            env=env,
            capture_output=True,
        )
        assert refused.returncode == 2, refused.stderr
        refusal_s = (now() - began) / 1e9

        exports = ["--csv", "r.csv", "--trace", "t.json", "--record", "rec.json"]
        proc = _start(["run", "async-sleep", "-c", "10", "-d", "30", "-p", "delay=0.1", *exports], folder, env)
        _wait_for_driver(proc)
        time.sleep(3)
        sent = now()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        stop_s = (now() - sent) / 1e9
        assert proc.returncode == 130
        with open(Path(folder) / "r.csv") as table:
            kept = sum(1 for row in csv.DictReader(table) if row["status"] == "200")

        proc = _start(["run", "sync-sleep", "-c", "3", "-d", "30", "-p", "delay=3"], folder, env)
        _wait_for_driver(proc)
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        sent = now()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        second_s = (now() - sent) / 1e9
        assert proc.returncode == 130
    return refusal_s, stop_s, kept, second_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    rows = []
    print(f"{'round':>5} {'refusal s':>10} {'stop s':>8} {'kept':>6} {'second s':>9}")
    for i in range(rounds):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": tempfile.mkdtemp(prefix="bench-int-")}
        row = one_round(env)
        rows.append(row)
        print(f"{i + 1:>5} {row[0]:>10.2f} {row[1]:>8.2f} {row[2]:>6} {row[3]:>9.2f}", flush=True)
    medians = [statistics.median(r[k] for r in rows) for k in range(4)]
    print(f"{'med':>5} {medians[0]:>10.2f} {medians[1]:>8.2f} {medians[2]:>6.0f} {medians[3]:>9.2f}")


if __name__ == "__main__":
    main()
