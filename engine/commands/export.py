"""``main.py export RUN_ID_OR_FILE --html FILE …``: write a past run's exports without running it again.

The run comes from the history (an id) or a run file (``engine.runref.load_ref``); the formats
are the export table's (``engine.exports.EXPORTS``), so every ``run`` export flag works here too,
with ``--json`` as another name for ``--record``.  As with ``run``, every destination is checked
before the run is read, and each file is written whole or not at all.  A bad reference, a
file that is not a run, or a bad destination is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def add_parser(sub: argparse._SubParsersAction, parser_class: type[argparse.ArgumentParser]) -> None:
    from ..exports import EXPORTS

    parser = sub.add_parser(
        "export",
        help="write the exports of a past run (history id or run file)",
        description="Write the exports of a past run: a history id (see `history`) or a run file.",
    )
    parser.add_argument("run_ref", metavar="RUN_ID_OR_FILE", help="a history id (12 or #12) or a run file")
    for export in EXPORTS.values():
        parser.add_argument(export.flag, dest=f"export_{export.id}", metavar="FILE", help=export.help)
    parser.add_argument("--json", dest="export_json", metavar="FILE", help="the same as --record")
    parser.epilog = (
        "FILE '-' writes that export to standard output (one export at most). Each file is written "
        "whole or not at all. Exit status 2: a bad id, file or destination, refused before "
        "anything is written; 1: an export could not be written."
    )


def _requested(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    from ..exports import EXPORTS

    return [(e.flag, getattr(args, f"export_{e.id}")) for e in EXPORTS.values()] + [("--json", args.export_json)]


def run(args: argparse.Namespace) -> int:
    from ..exports import EXPORTS, by_flag
    from ..outfile import DestinationError, check_destinations, write_atomically
    from ..runfile import RunFileError
    from ..runref import load_ref

    requested = _requested(args)
    if all(value is None for _, value in requested):
        flags = ", ".join(e.flag for e in EXPORTS.values())
        return _fail(f"export needs at least one of {flags} or --json with a FILE")
    try:
        destinations = check_destinations(requested)
    except DestinationError as exc:
        return _fail(str(exc))
    try:
        record = load_ref(args.run_ref)
    except RunFileError as exc:
        return _fail(str(exc))
    for destination in destinations:
        flag = "--record" if destination.flag == "--json" else destination.flag
        try:
            write_atomically(destination, by_flag(flag).write, record)
        except OSError as exc:
            print(f"error: {destination.flag} {destination}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
        if not destination.to_stdout:
            print(f"wrote {destination.flag.removeprefix('--')} {destination}", file=sys.stderr)
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
