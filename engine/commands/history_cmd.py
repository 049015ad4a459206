"""``main.py history [--json] [--demo ID]``: the runs the history holds, newest first."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..history import History, HistoryEntry, HistoryError, format_size


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "history",
        help="list the runs kept in the history (the window's and `run --save`'s)",
        description="List the stored runs, newest first. `show ID` prints one; `export ID` writes it.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document: the runs, the size, the cap")
    parser.add_argument("--demo", metavar="ID", help="only the runs of this demo or scenario")


def settings_text(entry: HistoryEntry) -> str:
    """``c 50 · n 500`` / ``c 10 · 200/s · 5 s``: how hard the run pushed, in a few characters."""
    parts = [f"c {entry.concurrency}"]
    if entry.rate is not None:
        parts.append(f"{entry.rate:g}/s")
    if entry.duration_s is not None:
        parts.append(f"{entry.duration_s:g} s")
    else:
        parts.append(f"n {entry.requests}")
    return " · ".join(parts)


def saved_text(entry: HistoryEntry) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.saved_at))


def run(args: argparse.Namespace) -> int:
    try:
        with History.open() as history:
            entries = history.entries(args.demo)
            size, count, keep, path = history.size_bytes(), history.count(), history.keep_last, history.path
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        doc = {
            "path": str(path),
            "size_bytes": size,
            "count": count,
            "keep_last": keep,
            "runs": [e.as_dict() for e in entries],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if not entries:
        print(f"no runs{f' of {args.demo}' if args.demo else ''} in the history ({path})")
        return 0
    for e in entries:
        ended = f" [{e.ended}]" if e.ended else ""
        name = f" “{e.name}”" if e.name else ""
        params = f" {e.params}" if e.params else ""
        print(
            f"#{e.id:<5} {saved_text(e)}  {e.target}{name}  {settings_text(e)}{params}  "
            f"wall {e.wall_s:.2f} s  p99 {e.p99_ms:.1f} ms{ended}"
        )
        print(f"       {e.headline}")
        if e.note:
            print(f"       note: {e.note}")
    print(f"\n{count} run{'' if count == 1 else 's'}, {format_size(size)}, in {path} (keeps the last {keep})")
    return 0
