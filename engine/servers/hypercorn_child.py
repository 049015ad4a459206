"""hypercorn in a child process, on its asyncio worker."""

from __future__ import annotations

import sys

INTERFACE = "asgi"


def command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "hypercorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "asyncio",
        "--log-level",
        "warning",
        "embedded_site.child:application",
    ]
