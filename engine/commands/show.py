"""``main.py show RUN_ID_OR_FILE [--json]``: a past run's summary, as `run` printed it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..runfile import RunFileError
from ..runref import load_ref


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "show",
        help="print a past run's summary: a history id (see `history`) or a run file",
        description="Print the summary of a stored run, a run file (Save run…, --record) or a trace this app exported.",
    )
    parser.add_argument("run_ref", metavar="RUN_ID_OR_FILE", help="a history id (12 or #12) or a file's path")
    parser.add_argument("--json", action="store_true", help="one JSON object, as `run --json` prints")


def past_line(record: Any) -> str:
    """Say first that this run was measured earlier, and where it was read from."""
    past = record.past
    line = f"(a past run, from {past.source})"
    if past.missing:
        line += f" — the trace does not hold: {', '.join(past.missing)}"
    return line


def run(args: argparse.Namespace) -> int:
    from ..cli import summary_json, text_summary
    from ..textview import text_timeline

    try:
        record = load_ref(args.run_ref)
    except RunFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = record.final_stats()
    if args.json:
        past = record.past
        doc = summary_json(record, stats)
        doc["past"] = {"kind": past.kind, "source": past.source, "missing": list(past.missing)}
        print(json.dumps(doc))
        return 0
    print(past_line(record))
    print(text_summary(record, stats))
    print()
    print(text_timeline(record))
    return 0
