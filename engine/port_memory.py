"""The window's site keeps its port between launches, so a bookmark to it keeps working.

The last port is kept in the data directory (``last_port``, one number).  At start-up the
lab asks for that port again; if something else holds it now, it takes any free port
instead and remembers that one.  A file that does not hold a usable port is ignored.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PORT_FILE = "last_port"
LOWEST, HIGHEST = 1024, 65535  # never a privileged port, whatever the file says


def remembered_port(data_dir: Path) -> int:
    """The port of the last launch, or 0 (any free port) when there is none to reuse."""
    try:
        text = (data_dir / PORT_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return 0
    if not text.isdigit():
        return 0
    port = int(text)
    return port if LOWEST <= port <= HIGHEST else 0


def remember_port(data_dir: Path, port: int) -> None:
    """Keep ``port`` for the next launch (written whole under a temporary name, then renamed)."""
    target = data_dir / PORT_FILE
    temporary = target.with_name(f".{PORT_FILE}.{os.getpid()}")
    with contextlib.suppress(OSError):  # a read-only data dir only costs the bookmark
        temporary.write_text(f"{port}\n", encoding="ascii")
        os.replace(temporary, target)
