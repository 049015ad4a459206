"""daphne (the server the article names), in a child process; one process, no workers option."""

from __future__ import annotations

import sys

INTERFACE = "asgi"


def command(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "-v",
        "0",
        "embedded_site.child:application",
    ]
