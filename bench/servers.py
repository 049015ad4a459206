"""Run the "should I go async?" presets (engine/deploy_presets.py) through ``main.py run`` and
print one row per run: server, workers × threads, req/s, p50, p99, the server's CPU per request
(the child's processes; for the embedded server the lab's own process, which also runs the
lab), errors.

    python -m bench.servers [PRESET ...]        # default: every preset
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.deploy_presets import DEPLOY_PRESETS, run_args

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    chosen = argv or list(DEPLOY_PRESETS)
    for preset_id in chosen:
        preset = DEPLOY_PRESETS[preset_id]
        print(f"\n{preset.title} (-c {preset.concurrency} -n {preset.requests})")
        print(f"  {'run':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'errors':>6}")
        for run in preset.runs:
            done = subprocess.run(
                [sys.executable, str(ROOT / "main.py"), "run", *run_args(preset, run), "--json"],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if done.returncode not in (0, 1):
                print(f"  {run.label:44} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            s = json.loads(done.stdout)
            lat = s["latency_ms"]
            cpu = s["server"].get("cpu_s", 0.0) * 1000 / max(1, s["completed"])
            print(
                f"  {run.label:44} {s['throughput_rps']:8.0f} {lat['p50']:8.1f} {lat['p99']:8.1f} {cpu:10.2f} "
                f"{s['errors']:6d}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
