"""``main.py run … --save``: store the run in the history too, where the window lists it."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--save",
        action="store_true",
        help="store the run in the history too (see `history`; the window lists it)",
    )


def after_run(args: argparse.Namespace, record: Any) -> int | None:
    """Store the finished (or stopped) run; one line on stderr says where.  Returns an exit
    status when it could not be stored (1: the run itself is fine, its storing failed)."""
    if not getattr(args, "save", False):
        return None
    from ..history import History, HistoryError

    try:
        with History.open() as history:
            run_id = history.add(record)
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"saved as history run #{run_id} (`show {run_id}`)", file=sys.stderr)
    return None
