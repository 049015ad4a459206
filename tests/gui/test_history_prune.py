""" "Delete older than…" in the history panel, clicked: a real history holding old and new runs
(a real run stored with earlier times), the dialog saying how many runs and bytes go before
anything is deleted, Delete removing exactly those, and the size under the table shrinking."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.history import History, format_size
from gui.history_panel import HistoryPanel
from gui.history_prune import PruneDialog

DAY = 86_400
AGES_DAYS = (0, 0.5, 3, 10, 20, 40)  # how long ago each copy of the run was stored


@pytest.fixture
def panel(qapp, qtbot, lab_runner, tmp_path):
    record = lab_runner.run("async-sleep", concurrency=4, requests=8, params={"delay": 0.05})
    path = tmp_path / "history.sqlite3"
    now = time.time()
    with History.open(path) as history:
        for days in AGES_DAYS:
            history.add(record, saved_at=now - days * DAY)
    widget = HistoryPanel(path=path)
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    yield widget
    widget.close_history()


def _open_dialog(qtbot, panel: HistoryPanel) -> PruneDialog:
    assert panel.prune_button.isEnabled()
    qtbot.mouseClick(panel.prune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(panel.prune_box, PruneDialog) and panel.prune_box.isVisible(), timeout=5000)
    dialog = panel.prune_box
    assert isinstance(dialog, PruneDialog) and dialog.windowModality() == Qt.WindowModality.WindowModal
    return dialog


def test_delete_older_than_says_what_goes_asks_and_deletes(panel, qtbot) -> None:
    assert panel.count() == 6
    size_before = panel.history.size_bytes()
    assert panel.size_label.text() == f"6 runs · {format_size(size_before)}"
    dialog = _open_dialog(qtbot, panel)

    # The default, a week: the runs of 10, 20 and 40 days ago, and their bytes, said first.
    per_run = panel.history.entries()[0].size_bytes
    assert dialog.choice.currentText() == "1 week"
    assert dialog.preview.text().startswith("Deletes 3 runs of 6, stored before ")
    assert f"{format_size(3 * per_run)} of run files. 3 runs stay." in dialog.preview.text()
    assert dialog.delete_button.text() == "Delete 3 runs" and dialog.delete_button.isEnabled()

    # Up a choice (the keyboard on the combo box): a day takes one more.
    dialog.choice.setFocus()
    QTest.keyClick(dialog.choice, Qt.Key.Key_Up)
    assert dialog.choice.currentText() == "1 day"
    assert dialog.preview.text().startswith("Deletes 4 runs of 6")

    # Custom: a bad age is refused in the dialog's own line, with Delete off.
    QTest.keyClick(dialog.choice, Qt.Key.Key_End)
    assert dialog.choice.currentText() == "Custom…" and dialog.custom.isEnabled()
    QTest.keyClicks(dialog.custom, "15y")
    assert dialog.preview.text().startswith("Not an age: ") and not dialog.delete_button.isEnabled()
    assert panel.history.count() == 6  # nothing was touched
    dialog.custom.clear()
    QTest.keyClicks(dialog.custom, "100d")
    assert dialog.preview.text().startswith("No run is older than 100 days") and not dialog.delete_button.isEnabled()
    dialog.custom.clear()
    QTest.keyClicks(dialog.custom, "15d")
    assert dialog.preview.text().startswith("Deletes 2 runs of 6") and "4 runs stay" in dialog.preview.text()

    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert panel.count() == 4 and panel.history.count() == 4
    now = time.time()
    assert all(now - e.saved_at < 15 * DAY for e in panel.history.entries())  # exactly the old ones went
    with History.open(panel.history.path) as other:  # another process sees it too
        assert other.count() == 4
    size_after = panel.history.size_bytes()
    assert size_after < size_before - per_run  # the pages went back to the file system
    assert panel.size_label.text() == f"4 runs · {format_size(size_after)}"
    assert panel.notice.text() == (
        f"Deleted 2 runs older than 15 days: the history went from {format_size(size_before)} "
        f"to {format_size(size_after)}."
    )


def test_cancel_deletes_nothing(panel, qtbot) -> None:
    dialog = _open_dialog(qtbot, panel)
    cancel = next(b for b in dialog.buttons.buttons() if b is not dialog.delete_button)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    QApplication.processEvents()
    assert panel.history.count() == 6 and panel.count() == 6 and panel.prune_box is None
