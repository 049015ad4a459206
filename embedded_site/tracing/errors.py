"""An exception's traceback as text small enough to keep on every failed request.

A run may fail thousands of requests the same way; each keeps its own traceback so any one
of them can be inspected, but bounded: the innermost frames (where it was raised) matter
most, so a long traceback keeps its head line and its tail.
"""

from __future__ import annotations

import traceback

TRACEBACK_LIMIT = 8192  # characters kept per request


def traceback_text(exc: BaseException, limit: int = TRACEBACK_LIMIT) -> str:
    """The formatted traceback of ``exc``, at most ``limit`` characters (middle elided)."""
    text = "".join(traceback.format_exception(exc))
    if len(text) <= limit:
        return text
    marker = "\n  … (frames left out) …\n"
    head = text[: text.find("\n") + 1]  # "Traceback (most recent call last):"
    return head + marker + text[-(limit - len(head) - len(marker)) :]
