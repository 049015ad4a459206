"""``--project PATH [--settings MODULE] [--db-copy] [--install]`` for ``run`` and ``list``:
serve a person's own Django project instead of the demo site.

The project is located and set up before anything runs, so a missing manage.py, a settings
module that raises, a dependency that is not installed or a URLconf that cannot be walked
is one line and exit status 2.  ``--method`` chooses another method than GET for a URL of
the project (it may write to the project's database).
"""

from __future__ import annotations

import argparse
import sys

EXIT_BAD_INPUT = 2


def add_project_options(parser: argparse.ArgumentParser) -> None:
    """The options that pick a project (``list`` and ``run`` share them)."""
    parser.add_argument("--project", metavar="PATH", help="serve this Django project (its folder with manage.py)")
    parser.add_argument("--settings", metavar="MODULE", help="its settings module (default: the one manage.py names)")
    parser.add_argument(
        "--db-copy", action="store_true", help="run against a copy of its SQLite database, kept in the data dir"
    )
    parser.add_argument(
        "--install",
        action="store_true",
        help="install its requirements into the lab's environment for it (made once, reused), then go on there",
    )


def add_run_options(run: argparse.ArgumentParser) -> None:
    add_project_options(run)
    run.add_argument(
        "--method",
        metavar="M",
        help="for a project URL: the HTTP method (default GET; others may write to the project's database)",
    )


def activate_from_args(args: argparse.Namespace, argv: list[str] | None = None) -> int | None:
    """Set the lab up for the project the options name: None to go on, or an exit status
    after one line on standard error."""
    from embedded_site.project import ProjectError

    try:
        load(args, argv)
    except ProjectError as exc:
        return _fail(str(exc))
    return None


def load(args: argparse.Namespace, argv: list[str] | None = None) -> None:
    """Locate, (re-exec into the environment of,) activate and set up the project the
    options name; nothing without ``--project``.  Raises ProjectError with one line."""
    from embedded_site.project import ProjectError, activate, locate

    path = getattr(args, "project", None)
    for flag, given in (
        ("--settings", getattr(args, "settings", None)),
        ("--db-copy", getattr(args, "db_copy", False)),
        ("--install", getattr(args, "install", False)),
        ("--method", getattr(args, "method", None)),
    ):
        if given and path is None:
            raise ProjectError(f"{flag} is for a project: give it with --project PATH")
    if path is None:
        return
    project = locate(path, args.settings, db_copy=args.db_copy)
    from ..project_env import use_environment

    note = use_environment(project, install=args.install, argv=argv)  # may re-exec the lab in its env
    activate(project)
    set_up(project)
    if note is not None:  # the project loaded with the lab's packages: say how to give it its own
        print(note, file=sys.stderr, flush=True)


def set_up(project) -> None:
    """Configure Django for the project and import its ASGI application (raises ProjectError)."""
    from embedded_site.bootstrap import setup_django
    from embedded_site.project.serving import application

    setup_django()
    application(project)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
