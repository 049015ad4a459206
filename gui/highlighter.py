"""A small Python syntax highlighter for the view source: enough to read code, no extra dependency."""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _fmt(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


# Async keywords get their own colour: they are what this app is about.
_ASYNC = {"async", "await"}
_KEYWORDS = "|".join(k for k in keyword.kwlist if k not in _ASYNC)
_RULES: list[tuple[re.Pattern[str], QTextCharFormat, int]] = [
    (re.compile(r"\b(" + _KEYWORDS + r")\b"), _fmt("#0033b3", bold=True), 0),
    (re.compile(r"\b(async|await)\b"), _fmt("#c2185b", bold=True), 0),
    (re.compile(r"\b(self|cls|True|False|None)\b"), _fmt("#871094"), 0),
    (re.compile(r"@[\w.]+"), _fmt("#9e880d"), 0),
    (re.compile(r"\b(def|class)\s+(\w+)"), _fmt("#00627a", bold=True), 2),
    (re.compile(r"\b\d+(\.\d+)?\b"), _fmt("#1750eb"), 0),
    (re.compile(r"\b(time\.sleep|asyncio\.sleep|sync_to_async|async_to_sync)\b"), _fmt("#e4572e", bold=True), 0),
]
_STRING = re.compile(r"""[rbfRBF]{0,2}("[^"\\\n]*(\\.[^"\\\n]*)*"|'[^'\\\n]*(\\.[^'\\\n]*)*')""")
_COMMENT = re.compile(r"#[^\n]*")
_STRING_FMT = _fmt("#067d17")
_COMMENT_FMT = _fmt("#8c8c8c", italic=True)
_TRIPLE = re.compile(r'"""|\'\'\'')


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, comments, numbers, decorators; triple-quoted strings across lines."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for pattern, fmt, group in _RULES:
            for m in pattern.finditer(text):
                self.setFormat(m.start(group), m.end(group) - m.start(group), fmt)
        for m in _STRING.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), _STRING_FMT)
        for m in _COMMENT.finditer(text):
            if not _inside_string(text, m.start()):
                self.setFormat(m.start(), m.end() - m.start(), _COMMENT_FMT)
        self._triple_quotes(text)

    def _triple_quotes(self, text: str) -> None:
        self.setCurrentBlockState(0)
        start = 0
        if self.previousBlockState() != 1:
            m = _TRIPLE.search(text)
            if m is None:
                return
            start = m.start()
            search_from = m.end()
        else:
            search_from = 0
        while True:
            end = _TRIPLE.search(text, search_from)
            if end is None:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, _STRING_FMT)
                return
            self.setFormat(start, end.end() - start, _STRING_FMT)
            nxt = _TRIPLE.search(text, end.end())
            if nxt is None:
                return
            start, search_from = nxt.start(), nxt.end()


def _inside_string(text: str, pos: int) -> bool:
    return any(m.start() < pos < m.end() for m in _STRING.finditer(text))
