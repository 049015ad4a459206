"""``run --view FILE.py[:NAME]``: mount a view from a file exactly as the playground does, and run it.

The file is compiled under its own path (a traceback or a loop culprit names its lines),
its ``PARAMS`` become the run's ``--param`` fields, and it is served at
``/playground/<file stem>/`` for the run.  A missing file or a syntax error is one line
with ``file:line``, exit 2, before the server starts.
"""

from __future__ import annotations

import argparse


def add_run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--view",
        metavar="FILE.py[:NAME]",
        help="mount the view in FILE (the function `view`, the only one, or NAME) as the playground does, and run it",
    )


def target(args: argparse.Namespace) -> str | None:
    """The run's target id when ``--view`` was given (the view is mounted by then), else None.

    Raises ConfigError for a bad file, or when a target was given as well.
    """
    spec = getattr(args, "view", None)
    if spec is None:
        return None
    from ..config import ConfigError
    from ..snippets import mount_file

    if args.target is not None:
        raise ConfigError(f"give either a target or --view FILE.py, not both (got {args.target!r} and --view)")
    return mount_file(spec).id
