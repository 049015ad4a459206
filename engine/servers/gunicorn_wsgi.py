"""gunicorn under WSGI, the sync baseline: sync workers, or gthread with ``--threads`` > 1."""

from __future__ import annotations

import sys

INTERFACE = "wsgi"


def worker_kind(threads: int) -> str:
    return "gthread" if threads > 1 else "sync"


def command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_kind(threads),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--timeout",
        "120",
        "embedded_site.wsgi:application",
    ]
