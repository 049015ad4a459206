"""uvicorn in a child process: ``uvicorn embedded_site.child:application``."""

from __future__ import annotations

import sys

INTERFACE = "asgi"


def command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "embedded_site.child:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "on",
    ]
