"""The catalogue's lesson shows inline code as code, and the filter answers the keyboard:
real key presses into the real window's filter box."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def _in_view(tree, item) -> bool:
    rect = tree.visualItemRect(item)
    return rect.isValid() and tree.viewport().rect().intersects(rect)


def test_a_lesson_renders_its_inline_code(window) -> None:
    panel = window.catalogue
    assert panel.select("auth-auser")
    text = panel.lesson.text()
    assert panel.lesson.textFormat() == Qt.TextFormat.RichText
    assert "<code>request.auser()</code>" in text
    assert "`" not in text
    assert panel.select("article-async-all")
    assert "`" not in panel.title.text() and "<code>" in panel.title.text()
    item = panel.tree.currentItem()
    assert "`" not in item.text(0)


def test_enter_in_the_filter_picks_the_first_match(window, qtbot) -> None:
    panel = window.catalogue
    panel.filter.setFocus()
    qtbot.keyClicks(panel.filter, "crossing")
    assert panel.visible_targets()[0] == "hop-cost"
    picked = []
    panel.selected.connect(lambda target: picked.append(target.id))
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    assert panel.current is not None and panel.current.id == "hop-cost"
    assert picked == ["hop-cost"]


def test_clearing_the_filter_keeps_the_selection_in_view(window, qtbot) -> None:
    panel = window.catalogue
    window.resize(1366, 768)
    QApplication.processEvents()
    panel.filter.setFocus()
    qtbot.keyClicks(panel.filter, "streaming-sync")  # near the end of a long list
    qtbot.keyClick(panel.filter, Qt.Key.Key_Enter)
    chosen = panel.tree.currentItem()
    assert panel.current.id == "streaming-sync-iterator"
    qtbot.keyClick(panel.filter, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel.filter, Qt.Key.Key_Backspace)
    QApplication.processEvents()
    assert panel.filter.text() == ""
    assert len(panel.visible_targets()) == len(panel.targets)
    assert panel.tree.currentItem() is chosen
    assert panel.tree.verticalScrollBar().value() > 0  # the list had to scroll to show it
    assert _in_view(panel.tree, chosen)
