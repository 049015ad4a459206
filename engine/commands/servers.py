"""``--server NAME [--workers N] [--threads N]``: which server serves the run (``engine.servers``)."""

from __future__ import annotations

import argparse

from embedded_site.datadir import SiteSetupError

from ..servers import EMBEDDED, MAX_THREADS, MAX_WORKERS, SERVERS, ServerSpec, select

ONE_PROCESS = {EMBEDDED, "daphne"}  # no workers option: one process
THREADED = {"gunicorn-wsgi"}  # gthread workers


def add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server")
    group.add_argument(
        "--server",
        choices=tuple(SERVERS),
        default=EMBEDDED,
        help="the lab's own uvicorn on its loop (embedded, default), or the same site in a child process",
    )
    group.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (child servers)")
    group.add_argument(
        "--threads", type=int, default=1, metavar="N", help="gunicorn-wsgi: threads per worker (gthread)"
    )


def spec(name: str, workers: int = 1, threads: int = 1) -> ServerSpec:
    """The server ``name`` with ``workers`` and ``threads``, checked as ``--server`` is (the
    window's Server menu asks the same); raises SiteSetupError with the one line to show."""
    if name not in SERVERS:
        raise SiteSetupError(f"--server: no server {name!r} (choose from {', '.join(SERVERS)})")
    if not 1 <= workers <= MAX_WORKERS:
        raise SiteSetupError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if not 1 <= threads <= MAX_THREADS:
        raise SiteSetupError(f"--threads must be between 1 and {MAX_THREADS}, got {threads}")
    if workers > 1 and name in ONE_PROCESS:
        raise SiteSetupError(f"--workers: the {name} server runs one process")
    if threads > 1 and name not in THREADED:
        raise SiteSetupError(f"--threads is for gunicorn-wsgi (gthread workers), not {name}")
    return ServerSpec(name, workers, threads)


def configure(args: argparse.Namespace) -> None:
    name = getattr(args, "server", EMBEDDED) or EMBEDDED
    select(spec(name, getattr(args, "workers", 1), getattr(args, "threads", 1)))
