"""An exception's traceback as text small enough to keep on every failed request.

A run may fail thousands of requests the same way; each keeps its own traceback so any one
of them can be inspected, but bounded: the innermost frames (where it was raised) matter
most, so a long traceback keeps its head line and its tail.  Files of this project are named
relative to its root (``embedded_site/demos/views/article.py``), as a reader finds them.
"""

from __future__ import annotations

import traceback
from pathlib import Path

TRACEBACK_LIMIT = 8192  # characters kept per request
PROJECT_ROOT = str(Path(__file__).resolve().parents[2]) + "/"  # paths in the project read relative to it


def traceback_text(exc: BaseException, limit: int = TRACEBACK_LIMIT) -> str:
    """The formatted traceback of ``exc``, at most ``limit`` characters (middle elided)."""
    text = "".join(traceback.format_exception(exc)).replace(PROJECT_ROOT, "")
    if len(text) <= limit:
        return text
    marker = "\n  … (frames left out) …\n"
    head = text[: text.find("\n") + 1]  # "Traceback (most recent call last):"
    return head + marker + text[-(limit - len(head) - len(marker)) :]
