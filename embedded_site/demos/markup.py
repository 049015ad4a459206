"""A lesson's inline code (`like this`) as HTML, for the index page and the window's rich text.

Lessons are plain text with Markdown-style backticks around code.  Both front ends show
them as text with ``<code>`` spans, so the conversion lives in one place: everything is
HTML-escaped first, then each backticked run becomes a ``<code>`` element.  An unpaired
backtick stays a backtick.
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`]+)`")


def lesson_html(text: str) -> str:
    """``text`` escaped for HTML, with each `code` run wrapped in ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def plain(text: str) -> str:
    """``text`` without the backticks (for a tooltip or a terminal)."""
    return _CODE.sub(lambda m: m.group(1), text)
