"""gunicorn with uvicorn-worker's ASGI worker, in a child process."""

from __future__ import annotations

import sys

INTERFACE = "asgi"


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
        "uvicorn_worker.UvicornWorker",
        "--log-level",
        "warning",
        "embedded_site.child:application",
    ]
