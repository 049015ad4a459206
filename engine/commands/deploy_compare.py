"""``main.py compare --deploy PRESET [--keep DIR] [--json] [--html|--png|--svg FILE]``: make a
"Should I go async?" preset's runs, each in a child ``main.py run … --record FILE`` on its own server (the
same command line the window's Compare menu runs), then compare them.

Each child is a whole headless run: its server starts in a process of its own, its tracing
streams back, its record names the server, workers, threads and the server's CPU for the
run. A child that fails (a server that does not start) ends the command with its one line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ..compare import MAX_RUNS, compare
from ..deploy_presets import DEPLOY_PRESETS, child_args, groups
from ..runfile import RunFileError, load_run
from .compare_cmd import WRITERS, report_destinations, text_report, write_reports


def run_deploy(args: argparse.Namespace) -> int:
    if args.deploy is None:
        print("error: --keep goes with --deploy PRESET", file=sys.stderr)
        return 2
    if args.run_refs:
        print("error: --deploy makes its own runs: give no run ids or files with it", file=sys.stderr)
        return 2
    preset = DEPLOY_PRESETS.get(args.deploy)
    if preset is None:
        print(f"error: --deploy: no preset {args.deploy!r} (choose from {', '.join(DEPLOY_PRESETS)})", file=sys.stderr)
        return 2
    several = len(preset.runs) > MAX_RUNS
    asked = [f"--{k}" for k in WRITERS if getattr(args, k) is not None]
    if asked and several:
        print(
            f"error: {asked[0]}: {preset.id} makes {len(groups(list(preset.runs), MAX_RUNS))} comparisons; "
            "keep its runs with --keep DIR and compare their files",
            file=sys.stderr,
        )
        return 2
    destinations = report_destinations(args)
    if destinations is None:
        return 2
    keep = Path(args.keep) if args.keep is not None else None
    if keep is not None:
        try:
            keep.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"error: --keep {keep}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="explorer-deploy-") as tmp:
        folder = keep if keep is not None else Path(tmp)
        records = []
        for i, one in enumerate(preset.runs):
            path = folder / f"{i + 1}-{one.target}-{one.server}.run.json.gz"
            print(f"run {i + 1} of {len(preset.runs)}: {one.label}…", file=sys.stderr, flush=True)
            done = subprocess.run(
                child_args(preset, one, path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                records.append(load_run(path))
            except RunFileError as exc:
                lines = done.stderr.strip().splitlines()
                why = lines[-1].removeprefix("error: ") if lines else str(exc)
                print(f"error: {one.label}: {why}", file=sys.stderr)
                return 2
    out = sys.stderr if any(d.to_stdout for d in destinations) else sys.stdout
    for n, group in enumerate(groups(records, MAX_RUNS)):
        cmp = compare(group)
        if args.json:
            print(json.dumps(cmp.as_dict()), file=out)
        else:
            if n:
                print("", file=out)
            print(text_report(cmp), file=out)
    return write_reports(destinations, records)
