"""A Python code pane: highlighting, line numbers in a gutter, and one line marked as an error.

The gutter and the mark follow Qt's own "code editor" example: a QPlainTextEdit whose
left margin is painted by a small widget beside it, scrolled with it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QResizeEvent, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from .highlighter import PythonHighlighter
from .theme import mono_font

ERROR_MARK = QColor("#d32f2f")
ERROR_LINE = QColor("#fde2e1")
GUTTER_BG = QColor("#f3f3f3")
GUTTER_FG = QColor("#8c8c8c")


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self.editor.paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    """Editable Python with line numbers; ``mark_error(line, message)`` puts a red mark on a line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(mono_font(10))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self._highlighter = PythonHighlighter(self.document())
        self.gutter = _Gutter(self)
        self.error_line: int | None = None
        self.error_message = ""
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(3, digits)

    def _fit_gutter(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self.gutter)
        painter.fillRect(event.rect(), GUTTER_BG)
        block = self.firstVisibleBlock()
        number = block.blockNumber() + 1
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self.gutter.width()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                if number == self.error_line:
                    painter.fillRect(0, top, width, bottom - top, ERROR_MARK)
                    painter.setPen(Qt.GlobalColor.white)
                else:
                    painter.setPen(GUTTER_FG)
                painter.drawText(0, top, width - 6, height, Qt.AlignmentFlag.AlignRight, str(number))
            block = block.next()
            top = bottom
            number += 1
        painter.end()

    def mark_error(self, line: int | None, message: str) -> None:
        """Mark ``line`` (1-based) red in the gutter and the text, with ``message`` as its tooltip,
        and put the cursor there; None marks no line (the message is still kept)."""
        self.error_message = message
        self.error_line = line if line is not None and 1 <= line <= self.blockCount() else None
        selections = []
        if self.error_line is not None:
            block = self.document().findBlockByNumber(self.error_line - 1)
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(ERROR_LINE)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.format.setToolTip(message)
            cursor = QTextCursor(block)
            selection.cursor = cursor
            selections.append(selection)
            self.setTextCursor(cursor)
            self.centerCursor()
        self.setExtraSelections(selections)
        self.gutter.setToolTip(message)
        self.gutter.update()

    def clear_error(self) -> None:
        self.mark_error(None, "")
