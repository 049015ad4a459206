"""``main.py compare A B [C D] [--json] [--html FILE] [--png FILE] [--svg FILE]``: 2–4 past runs
side by side, from the terminal.

Each of A..D is a history id or a run file (``engine.runref.load_ref``, as ``show`` reads
them). The text output is the comparison sentence, the stats side by side with each run's
difference from the first, and each run's findings.  The report files (the HTML report, the
report card as PNG or SVG) are checked before any run is read and written whole or not at all.

``main.py compare --deploy PRESET [--keep DIR]`` makes the runs of a "Should I go async?"
preset first (``engine.deploy_presets``), each a child ``main.py run … --record FILE`` on its
server, exactly as the window's Compare menu does, and then compares them.  A preset of more
runs than one comparison holds is compared in groups that share its first run as baseline.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from ..compare import MAX_RUNS, MIN_RUNS, Comparison, compare
from ..deploy_presets import DEPLOY_PRESETS
from ..runfile import RunFileError
from ..runref import load_ref

# Each report file of a comparison: its flag (without dashes) and its writer, which takes
# (records, path); imported only when that file is asked for.
WRITERS = {
    "html": "..exports.html_report:write_comparison_html",
    "png": "..compare_card:write_comparison_png",
    "svg": "..compare_card:write_comparison_svg",
}


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "compare",
        help="compare 2 to 4 past runs (history ids or run files) side by side",
        description="Compare 2 to 4 stored runs: the stats side by side with the differences from the first, "
        "the findings, and one sentence saying which did better and why.",
    )
    parser.add_argument(
        "run_refs", metavar="RUN_ID_OR_FILE", nargs="*", help="2 to 4 history ids (12 or #12) or run files"
    )
    parser.add_argument(
        "--deploy",
        metavar="PRESET",
        help="make the runs of a 'Should I go async?' preset on their servers, then compare them: "
        + ", ".join(DEPLOY_PRESETS),
    )
    parser.add_argument("--keep", metavar="DIR", help="with --deploy: keep the preset's run files in DIR")
    parser.add_argument("--json", action="store_true", help="one JSON object: the sentence, the runs, the differences")
    parser.add_argument(
        "--html", metavar="FILE", help="also write the comparison as one self-contained HTML report ('-': stdout)"
    )
    parser.add_argument(
        "--png", metavar="FILE", help="also write the comparison's report card (1600x900: sentence, numbers, timelines)"
    )
    parser.add_argument("--svg", metavar="FILE", help="also write the comparison's report card as SVG")


def text_report(cmp: Comparison) -> str:
    """The comparison for a terminal: the sentence, a table of the stats, the findings."""
    names = [r.label for r in cmp.runs]
    first = max(len(m.label) for m in cmp.metrics)
    widths = [max(len(n), *(len(r.texts[m.key]) for m in cmp.metrics)) for n, r in zip(names, cmp.runs, strict=True)]
    lines = [cmp.sentence, ""]
    lines.append("  ".join([" " * first, *(n.ljust(w) for n, w in zip(names, widths, strict=True))]))
    for i, m in enumerate(cmp.metrics):
        cells = [r.texts[m.key].ljust(w) for r, w in zip(cmp.runs, widths, strict=True)]
        notes = [_tail(d[i].text) for d in cmp.differences]
        tail = "   " + "; ".join(f"{names[j + 1]}: {n}" for j, n in enumerate(notes)) if any(notes) else ""
        lines.append("  ".join([m.label.ljust(first), *cells]) + tail)
    for r in cmp.runs:
        lines.append("")
        lines.append(f"{r.label} ({r.stats.requests} requests, loop {r.record.loop}): {r.stats.verdict}")
        lines.extend(f"  - {f['severity']}: {f['sentence']}" for f in r.findings[1:])
    return "\n".join(lines)


def _tail(text: str) -> str:
    """'p99 2.01 s → 520 ms, 3.9× better' → '3.9× better' (the table already has the values)."""
    return text.rsplit(", ", 1)[-1] if ", " in text else text


def report_destinations(args: argparse.Namespace) -> list[Any] | None:
    """The report files asked for (``--html/--png/--svg``), checked before anything runs or is
    read; None (after one line on stderr) when one cannot be written."""
    from ..outfile import DestinationError, check_destinations

    try:
        return check_destinations([(f"--{k}", getattr(args, k)) for k in WRITERS])
    except DestinationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def write_reports(destinations: list[Any], records: list[Any]) -> int:
    """Write each report file of the comparison of ``records`` whole; 0, or 1 after one line."""
    from ..outfile import write_atomically

    for destination in destinations:
        module, _, name = WRITERS[destination.flag.removeprefix("--")].partition(":")
        writer = getattr(importlib.import_module(module, __package__), name)
        try:
            write_atomically(destination, writer, records)
        except OSError as exc:
            print(f"error: {destination.flag} {destination}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return 0


def run(args: argparse.Namespace) -> int:
    refs = args.run_refs
    if args.deploy is not None or args.keep is not None:
        from .deploy_compare import run_deploy

        return run_deploy(args)
    if not MIN_RUNS <= len(refs) <= MAX_RUNS:
        print(f"error: compare takes {MIN_RUNS} to {MAX_RUNS} runs, got {len(refs)}", file=sys.stderr)
        return 2
    destinations = report_destinations(args)
    if destinations is None:
        return 2
    records = []
    for ref in refs:
        try:
            records.append(load_ref(ref))
        except RunFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    cmp = compare(records)
    out = sys.stderr if any(d.to_stdout for d in destinations) else sys.stdout
    if args.json:
        print(json.dumps(cmp.as_dict()), file=out)
    else:
        print(text_report(cmp), file=out)
    return write_reports(destinations, records)
