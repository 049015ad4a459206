"""Save, open, drop and the history panel, through the window's own doors: the File menu's
shortcuts, a real drop event, real clicks on the table, a real delete question answered."""

from __future__ import annotations

import gzip

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from engine.history import History
from engine.stats import compute
from gui.history_panel import COLUMNS, ID_ROLE, NAME_COLUMN, NOTE_COLUMN, HistoryPanel

from .conftest import call_in_loop, run_until
from .test_window import _configure


def _run(window, loop, target, requests, concurrency, **params):
    _configure(window, target, requests, concurrency, **params)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 90)
    assert run_until(loop, lambda: window.history.pending == 0, 30)  # stored by its worker
    return window.record


def _drop(window, path) -> None:
    """Drag a file from a file manager onto the window's timeline and let go."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where = window.canvas.mapTo(window, window.canvas.rect().center())
    enter = QDragEnterEvent(
        QPointF(where), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(where), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()


def _click_row(window, run_id, column=0) -> None:
    panel = window.history
    row = panel.row_of(run_id)
    assert row is not None
    table = panel.table
    table.scrollTo(panel.proxy.index(row, column), table.ScrollHint.PositionAtTop)
    rect = table.visualRect(panel.proxy.index(row, column))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def test_a_finished_run_is_stored_and_saved_with_ctrl_s(window, gui_lab, tmp_path, monkeypatch) -> None:
    _, loop = gui_lab
    record = _run(window, loop, "sync-sleep", 4, 2, delay=0.05)
    run_id = window.history.id_of(record)
    assert run_id is not None and window.history.row_of(run_id) is not None
    with History.open(window.history.history.path) as history:  # another process would see it too
        assert history.entry(run_id).target == "sync-sleep"
    target = tmp_path / "saved.run.json.gz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.save_run_action.isEnabled()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert target.read_bytes()[:2] == b"\x1f\x8b"
    assert "Saved the run" in window.statusBar().currentMessage()


def test_a_dropped_run_file_is_drawn_as_a_past_run_with_its_demo_and_settings(
    window, gui_lab, tmp_path, monkeypatch
) -> None:
    _, loop = gui_lab
    original = _run(window, loop, "blocking-sleep", 3, 3, delay=0.2)
    path = tmp_path / "blocking.run.json.gz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    bars = len(window.model.bars)
    _run(window, loop, "async-sleep", 6, 2, delay=0.02)
    _drop(window, path)
    opened = window.record
    assert opened is not original and opened.past.kind == "file" and opened.past.source == str(path)
    assert window.catalogue.current.id == "blocking-sleep"
    assert window.controls.concurrency.value() == 3 and window.controls.requests.value() == 3
    assert abs(window.controls.param_editors["delay"].value() - 0.2) < 1e-9
    assert compute(opened).as_dict() == compute(original).as_dict()
    assert window.stats.verdict == compute(original).verdict == window.stats_panel.verdict.text()
    assert len(window.model.bars) == bars
    assert "past run" in window.windowTitle() and str(path) in window.windowTitle()
    assert "PAST run" in window.showing.text()
    assert window.banner.isVisible() and "frozen" in window.banner.text()  # the picture's own banner
    _run(window, loop, "hello", 2, 2)  # a new run: the title is no longer a past run's
    assert window.windowTitle() == "Django Async Explorer" and "PAST" not in window.showing.text()


def test_a_bad_file_is_one_line_and_the_shown_run_stays(window, gui_lab, tmp_path, monkeypatch) -> None:
    _, loop = gui_lab
    shown = _run(window, loop, "hello", 3, 3)
    bad = tmp_path / "cut.run.json.gz"
    bad.write_bytes(gzip.compress(b'{"format": "django-async-explorer/run", "version": 1')[:-12])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.error.isVisible() and "Cannot open it" in window.error.text() and "truncated" in window.error.text()
    assert "\n" not in window.error.text()
    assert window.record is shown and window.windowTitle() == "Django Async Explorer"
    newer = tmp_path / "newer.json"
    newer.write_text('{"format": "django-async-explorer/run", "version": 99}')
    _drop(window, newer)
    assert "newer version" in window.error.text() and window.record is shown


def test_an_earlier_sessions_run_opens_from_the_history_marked_as_past(window, gui_lab, lab_runner) -> None:
    record = lab_runner.run("async-sleep", concurrency=4, requests=4, params={"delay": 0.07})
    panel = window.history
    run_id = panel.history.add(record)  # as a run of an earlier session (or of `run --save`) left it
    panel.refresh()
    _click_row(window, run_id)
    shown = window.record
    assert shown is not record and shown.past.kind == "history"
    assert window.catalogue.current.id == "async-sleep" and window.controls.concurrency.value() == 4
    assert abs(window.controls.param_editors["delay"].value() - 0.07) < 1e-9
    assert compute(shown).as_dict() == compute(record).as_dict()
    assert f"history #{run_id}" in window.windowTitle() and "PAST run" in window.showing.text()


def test_the_table_sorts_filters_renames_notes_and_deletes_after_asking(window, gui_lab, lab_runner) -> None:
    _, loop = gui_lab
    panel = window.history
    fast = panel.history.add(lab_runner.run("async-sleep", concurrency=2, requests=2, params={"delay": 0.01}))
    slow = panel.history.add(lab_runner.run("sync-sleep", concurrency=2, requests=2, params={"delay": 0.2}))
    panel.refresh()
    window.left_split.setSizes([300, 600])  # the user drags the table taller
    QApplication.processEvents()
    # Sort by p99: a click on its header, twice for descending.
    header = panel.table.horizontalHeader()
    p99 = COLUMNS.index("p99 ms")
    x = header.sectionViewportPosition(p99) + header.sectionSize(p99) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, 5))
    values = [panel.proxy.index(r, p99).data(Qt.ItemDataRole.UserRole + 1) for r in range(panel.proxy.rowCount())]
    assert values == sorted(values) or values == sorted(values, reverse=True)
    # Filter by demo.
    panel.demo.setCurrentText("sync-sleep")
    ids = {panel.proxy.index(r, 0).data(ID_ROLE) for r in range(panel.count())}
    assert slow in ids and fast not in ids
    panel.demo.setCurrentText("All demos")
    # Rename and note: double-click the cell, type, Enter.
    for column, text in ((NAME_COLUMN, "before the fix"), (NOTE_COLUMN, "20 threads")):
        index = panel.proxy.index(panel.row_of(slow), column)
        QApplication.processEvents()  # the view's scroll range follows the last edit's layout
        panel.table.scrollTo(index, panel.table.ScrollHint.PositionAtTop)
        rect = panel.table.visualRect(index)
        assert panel.table.viewport().rect().contains(rect.center())
        viewport = panel.table.viewport()  # a real double-click: a click, then the second press
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
        editor = QApplication.focusWidget()
        assert editor.parent() is panel.table.viewport(), editor  # the cell's own editor
        editor.selectAll()
        QTest.keyClicks(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)
        QApplication.processEvents()  # the delegate commits on Return through a queued call
    entry = panel.history.entry(slow)
    assert (entry.name, entry.note) == ("before the fix", "20 threads")
    assert "before the fix" in panel.proxy.index(panel.row_of(slow), NAME_COLUMN).data()
    # Delete asks; Cancel keeps it, Yes deletes it.
    for answer, kept in ((QMessageBox.StandardButton.Cancel, True), (QMessageBox.StandardButton.Yes, False)):
        _click_row(window, slow, 0)
        QTest.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
        box = panel.delete_box
        assert box is not None and box.isVisible() and f"#{slow}" in box.text()
        QTest.mouseClick(box.button(answer), Qt.MouseButton.LeftButton)
        assert (panel.row_of(slow) is not None) is kept
    assert panel.row_of(fast) is not None
    assert "run" in panel.size_label.text() and ("KB" in panel.size_label.text() or "MB" in panel.size_label.text())


def test_a_corrupt_history_is_set_aside_and_the_panel_says_so(qapp, tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"garbage, not SQLite" * 100)
    panel = HistoryPanel(path=path)
    assert panel.notice.isVisibleTo(panel) and "kept it as history.sqlite3.corrupt-" in panel.notice.text()
    assert panel.count() == 0 and panel.history is not None
    assert list(tmp_path.glob("history.sqlite3.corrupt-*"))
    panel.close_history()
