"""File > Export through real clicks: the menu entries come from the export table, the save
dialog is answered by typing a name, and the next dialog opens in the folder the last one used."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit
from pytestqt.exceptions import TimeoutError as WaitTimedOut
from shiboken6 import isValid

from engine.exports import EXPORTS
from gui import exporting
from gui.window import APPLICATION, ORGANISATION

from .conftest import call_in_loop, run_until
from .test_window import _configure


def _click_menu_entry(qtbot, window, text: str) -> None:
    bar = window.menuBar()
    file_action = next(a for a in bar.actions() if a.text().replace("&", "") == "File")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_action).center())
    menu = file_action.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    entry = next(a for a in menu.actions() if a.text() == text)
    assert entry.isEnabled()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(entry).center())


def _answer_save_dialog(qtbot, path: Path, seen: dict) -> None:
    """When the save dialog shows, note the folder it opened in, type the file name, press Enter.
    A dialog still unanswered after 20 s is rejected, so a broken test fails instead of hanging."""
    tries = {"left": 400}

    def answer() -> None:
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()]
        if not dialogs:
            tries["left"] -= 1
            if tries["left"] > 0:
                QTimer.singleShot(50, answer)
            return
        dialog = dialogs[0]
        seen["folder"] = Path(dialog.directory().absolutePath())
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        if name is None:
            dialog.reject()
            return
        # A typed path makes Qt's completer list the folder as it loads it; when its popup is
        # up at the moment of Return, Return picks a completion instead of saving. The test is
        # of the export, not of that race: no completer.
        name.setCompleter(None)
        name.clear()
        QTest.keyClicks(name, str(path))
        seen["typed"] = name.text()
        QTest.keyClick(name, Qt.Key.Key_Return)
        seen["open_after_return"] = isValid(dialog) and dialog.isVisible()
        if seen["open_after_return"]:
            # Return reaches Qt's dialog through its default button, whose enabled state follows
            # the folder model Qt loads in the background; under a loaded machine it can still be
            # off. The test is of the export, not of that: the name is chosen and the dialog
            # accepted, as its Save button would.
            dialog.selectFile(str(path))
            dialog.accept()
        QTimer.singleShot(2000, lambda: isValid(dialog) and dialog.isVisible() and dialog.reject())

    QTimer.singleShot(100, answer)


def test_export_menu_writes_the_reports_and_remembers_the_folder(window, gui_lab, qtbot, tmp_path) -> None:
    _, loop = gui_lab
    texts = [a.text() for a in window.export_actions]
    assert {EXPORTS[i].menu_text for i in ("html", "png", "svg")} <= set(texts)
    window.settings.remove(exporting.FOLDER_KEY)
    _configure(window, "async-sleep", 6, 6, delay=0.1)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    folder = tmp_path / "reports"
    folder.mkdir()

    seen: dict = {}
    _answer_save_dialog(qtbot, folder / "first.html", seen)
    _click_menu_entry(qtbot, window, EXPORTS["html"].menu_text)
    written = (folder / "first.html").exists
    with contextlib.suppress(WaitTimedOut):
        qtbot.waitUntil(written, timeout=20000)
    # Said when it is not there: whether the dialog was answered, and what the status bar said
    # (a failed write is one line there).
    assert written(), f"dialog: {seen}; status bar: {window.statusBar().currentMessage()!r}"
    assert seen["folder"] == Path.home()  # nothing remembered yet
    page = (folder / "first.html").read_text()
    assert "async-sleep" in page and 'id="req-table"' in page
    assert QSettings(ORGANISATION, APPLICATION).value(exporting.FOLDER_KEY) == str(folder)

    seen.clear()
    _answer_save_dialog(qtbot, folder / "card.png", seen)
    _click_menu_entry(qtbot, window, EXPORTS["png"].menu_text)
    qtbot.waitUntil(lambda: (folder / "card.png").exists(), timeout=20000)
    assert seen["folder"] == folder  # the dialog opened where the last export went
    image = QImage(str(folder / "card.png"))
    assert (image.width(), image.height()) == (1600, 900)
    assert window.statusBar().currentMessage().startswith("Wrote")


def test_a_folder_that_is_gone_falls_back_to_home(gui_settings_dir, tmp_path) -> None:
    settings = QSettings(ORGANISATION, APPLICATION)
    settings.setValue(exporting.FOLDER_KEY, str(tmp_path / "gone"))
    assert exporting.last_folder(settings) == Path.home()
    settings.setValue(exporting.FOLDER_KEY, str(tmp_path))
    assert exporting.last_folder(settings) == tmp_path


def test_a_comparison_exports_its_html_report(window, gui_lab, qtbot, tmp_path) -> None:
    from gui.compare_view import CompareWindow

    _, loop = gui_lab
    records = []
    for target in ("sync-sleep", "async-sleep"):
        _configure(window, target, 4, 4, delay=0.1)
        assert call_in_loop(loop, window.start_run)
        assert run_until(loop, lambda: window.run_task.done(), 60)
        records.append(window.record)
    compared = CompareWindow(records)
    qtbot.addWidget(compared)
    compared.show()
    out = tmp_path / "compare.html"
    _answer_save_dialog(qtbot, out, {})
    _click_menu_entry(qtbot, compared, "Export comparison HTML…")
    qtbot.waitUntil(out.exists, timeout=20000)
    page = out.read_text()
    assert "Comparison: sync-sleep vs async-sleep" in page and page.count("Requests over time:") == 2
    assert compared.statusBar().currentMessage().startswith("Wrote")

    for entry, name in (("Export report card PNG…", "card.png"), ("Export report card SVG…", "card.svg")):
        out = tmp_path / name
        _answer_save_dialog(qtbot, out, {})
        _click_menu_entry(qtbot, compared, entry)
        qtbot.waitUntil(out.exists, timeout=20000)
        assert compared.statusBar().currentMessage() == f"Wrote {out}"
    image = QImage(str(tmp_path / "card.png"))
    assert (image.width(), image.height()) == (1600, 900)
    root = ET.parse(tmp_path / "card.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "Comparison: sync-sleep vs async-sleep"
    assert compared.comparison.sentence[:40] in " ".join(texts[1:4])
