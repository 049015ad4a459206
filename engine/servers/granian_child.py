"""granian (a Rust HTTP server) in a child process, ASGI interface."""

from __future__ import annotations

import sys

INTERFACE = "asgi"


def command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-ws",
        "embedded_site.child:application",
    ]
