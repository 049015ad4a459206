"""``main.py history [--json] [--demo ID] [--delete-older-than AGE]``: the runs the history holds,
newest first; or, with ``--delete-older-than 30d``, delete the runs stored longer ago than that
and say what went (no question asked: it is meant for scripts and cron as much as for people)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..age import AgeError, describe_age, parse_age
from ..history import History, HistoryEntry, HistoryError, format_size


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "history",
        help="list the runs kept in the history (the window's and `run --save`'s)",
        description="List the stored runs, newest first. `show ID` prints one; `export ID` writes it.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document: the runs, the size, the cap")
    parser.add_argument("--demo", metavar="ID", help="only the runs of this demo or scenario")
    parser.add_argument(
        "--delete-older-than",
        metavar="AGE",
        help="delete the runs stored more than AGE ago (a number and s, m, h, d or w: 30d, 12h) and say what went",
    )


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
    if args.delete_older_than is not None:
        return delete_older_than(args)
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


def delete_older_than(args: argparse.Namespace) -> int:
    """``--delete-older-than AGE``: checked before the history is opened, then one transaction."""
    try:
        seconds = parse_age(args.delete_older_than)
    except AgeError as exc:
        print(f"error: --delete-older-than: {exc}", file=sys.stderr)
        return 2
    if args.demo is not None:
        print("error: --delete-older-than deletes the old runs of every demo; drop --demo", file=sys.stderr)
        return 2
    cutoff = time.time() - seconds
    try:
        with History.open() as history:
            before = history.size_bytes()
            count, run_bytes = history.stored_before(cutoff)
            deleted = history.delete_before(cutoff)
            left, size, path = history.count(), history.size_bytes(), history.path
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    age = describe_age(seconds)
    if args.json:
        doc = {
            "path": str(path),
            "older_than_s": seconds,
            "cutoff": cutoff,
            "deleted": deleted,
            "deleted_run_bytes": run_bytes if deleted == count else None,
            "size_bytes_before": before,
            "size_bytes": size,
            "count": left,
        }
        print(json.dumps(doc, indent=2))
        return 0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(cutoff))
    if deleted:
        files = f" ({format_size(run_bytes)} of run files)" if deleted == count else ""
        print(f"deleted {deleted} run{'' if deleted == 1 else 's'} older than {age} (stored before {stamp}){files}")
    else:
        print(f"no run in the history is older than {age} (stored before {stamp})")
    print(f"{left} run{'' if left == 1 else 's'} left, {format_size(before)} → {format_size(size)}, in {path}")
    return 0
