"""Drive the window serving a project, in a process of its own (Django is set up once per
process, and the GUI test session serves the demo site), the way a person does: clicks on
the catalogue, keys into the argument field, the method chosen and refused in its dialog,
Run pressed.  Prints one JSON object with what it saw; ``test_project_window`` reads it.

    python tests/project/window_check.py run PROJECT      # the window with the project
    python tests/project/window_check.py refuse PATH      # a path the lab cannot serve
    python tests/project/window_check.py compare PROJECT  # Compare with… and with the last run
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def answer_next_box(button_text: str, seen: list[str]) -> None:
    """When the next message box is up, note its text and click the button named ``button_text``."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMessageBox

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, poll)
            return
        seen.append(box.text())
        button = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(20, poll)


def refuse(path: str) -> dict:
    from gui.project_mode import load_for_window

    seen: list[str] = []
    from engine.loops import ensure_qt_app

    ensure_qt_app(gui=True)
    answer_next_box("OK", seen)
    status = load_for_window(["--project", path])
    return {"status": status, "dialog": seen}


def click_item(tree, target_id: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            item = group.child(j)
            if item.data(0, Qt.ItemDataRole.UserRole) == target_id:
                tree.scrollToItem(item)
                rect = tree.visualItemRect(item)
                QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
                return
    raise AssertionError(f"{target_id} is not in the catalogue")


def run(project: str) -> dict:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from gui.project_mode import load_for_window

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    assert load_for_window(["--project", project]) is None
    from engine.lab import Lab
    from engine.loops import close_loop, ensure_qt_app, new_loop
    from gui.window import MainWindow

    Lab.prepare()
    ensure_qt_app(gui=True)
    loop = new_loop("qt", gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind="qt")
    loop.run_until_complete(lab.start())
    window = MainWindow(lab)
    window.resize(*(int(v) for v in os.environ.get("EXPLORER_PROJECT_SIZE", "1400x900").split("x")))
    window.show()
    seen: dict = {}

    async def until(predicate, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate():
            await asyncio.sleep(0.02)
        return predicate()

    async def drive() -> None:
        catalogue, controls = window.catalogue, window.controls
        bar = catalogue.project_bar
        await until(lambda: controls.target is not None)
        seen["first"] = controls.target.id
        seen["groups"] = [catalogue.tree.topLevelItem(i).text(0) for i in range(catalogue.tree.topLevelItemCount())]
        seen["database"] = bar.database.text()
        seen["copy_offered"] = bar.use_copy.isVisible()
        menu = window.menuBar().actions()[0].menu()
        seen["file_menu"] = [a.text() for a in menu.actions() if a.text()]
        # A pattern with an argument: its field takes only what the converter does.
        click_item(catalogue.tree, "/shop/item/<int:pk>/")
        seen["arg_fields"] = list(bar.arg_edits)
        QTest.keyClicks(bar.arg_edits["pk"], "x7")  # "x" is no int: the field refuses it
        seen["filled"] = controls.target.id
        seen["source"] = catalogue.source.toPlainText().splitlines()[0]
        # Another method asks first; "No" keeps GET.
        boxes: list[str] = []
        answer_next_box("No", boxes)
        bar.method.setCurrentText("POST")
        seen["method_after_no"] = bar.method.currentText()
        seen["method_box"] = boxes
        answer_next_box("Yes", boxes)
        bar.method.setCurrentText("DELETE")
        seen["target_after_yes"] = controls.target.id
        bar.method.setCurrentText("GET")
        # Any path can be typed.
        bar.url.clear()
        QTest.keyClicks(bar.url, "/shop/items/?q=typed")
        seen["typed"] = controls.target.id
        # The blocking view, run with the Run button.
        click_item(catalogue.tree, "/shop/blocking/")
        controls.concurrency.setValue(3)
        controls.requests.setValue(3)
        toolbar_button = [w for w in window.run_action.associatedObjects() if hasattr(w, "click")]
        QTest.mouseClick(toolbar_button[0], Qt.MouseButton.LeftButton)
        await until(lambda: window.run_task is not None)
        await until(lambda: window.run_task.done(), 120)
        await until(lambda: window.stats is not None)
        stats = window.stats
        seen["verdict"] = stats.verdict
        seen["findings"] = {f["id"]: f.get("evidence", {}).get("culprit") for f in stats.findings}
        seen["statuses"] = stats.statuses
        seen["history"] = window.history.count() if hasattr(window.history, "count") else None
        shot = os.environ.get("EXPLORER_PROJECT_SHOT")  # a picture of the window for the README
        if shot:
            await asyncio.sleep(0.5)
            window.grab().save(shot)
        # File → Open project…: a folder that is not a project is a dialog; a project asks
        # before the restart ("No" keeps this window), and "Yes" closes it to start again.
        from gui import project_mode

        opened: list[str] = []
        answer_next_box("OK", opened)
        seen["open_not_a_project"] = project_mode.open_project(window, str(Path(project).parent / "no-such"))
        answer_next_box("No", opened)
        seen["open_declined"] = project_mode.open_project(window, project)
        answer_next_box("No", opened)
        QTest.mouseClick(bar.use_copy, Qt.MouseButton.LeftButton)  # asks first: "No" stays
        seen["copy_relaunch_after_no"] = project_mode.relaunch_requested()
        answer_next_box("Yes", opened)
        seen["open_accepted"] = project_mode.open_project(window, project)
        seen["open_dialogs"] = opened
        seen["relaunch"] = project_mode.relaunch_requested()
        await until(lambda: not window.isVisible(), 10)
        seen["closed"] = not window.isVisible()
        window.close()

    loop.run_until_complete(drive())
    loop.run_until_complete(window.wait_idle())
    loop.run_until_complete(lab.close())
    close_loop(loop)
    return seen


def compare(project: str) -> dict:
    """Compare → "Compare with…" on a project URL (the other URL chosen in its dialog), then
    "Compare with its last run"; what each comparison window holds."""
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QDialogButtonBox

    from gui.project_mode import load_for_window

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    assert load_for_window(["--project", project]) is None
    from engine.lab import Lab
    from engine.loops import close_loop, ensure_qt_app, new_loop
    from gui.window import MainWindow

    Lab.prepare()
    ensure_qt_app(gui=True)
    loop = new_loop("qt", gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind="qt")
    loop.run_until_complete(lab.start())
    window = MainWindow(lab)
    window.resize(1400, 900)
    window.show()
    seen: dict = {}

    async def until(predicate, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not predicate():
            await asyncio.sleep(0.02)
        return predicate()

    def described(view) -> dict:
        return {
            "title": view.windowTitle(),
            "sentence": view.comparison.sentence,
            "targets": [r.record.config.target for r in view.comparison.runs],
            "requests": [len(r.record.client) for r in view.comparison.runs],
            "concurrency": [r.record.config.streams[0].concurrency for r in view.comparison.runs],
            "statuses": [r.stats.statuses for r in view.comparison.runs],
            "p50": [r.stats.latency_ms["p50"] for r in view.comparison.runs],
            "blocked_ms": [r.stats.blocked_ms for r in view.comparison.runs],
            "culprits": [
                [f.get("evidence", {}).get("culprit") for f in r.findings if f["id"] == "loop-blocked"]
                for r in view.comparison.runs
            ],
        }

    async def drive() -> None:
        catalogue, controls = window.catalogue, window.controls
        await until(lambda: controls.target is not None)
        click_item(catalogue.tree, "/shop/blocking/")
        controls.concurrency.setValue(3)
        controls.requests.setValue(3)
        menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Compare")
        seen["menu"] = [a.text() for a in menu.actions() if a.text()]
        window.compare_with_action.trigger()
        dialog = window.compare_with_dialog
        seen["choices"] = [dialog.other.itemText(i) for i in range(dialog.other.count())]
        dialog.other.setCurrentText("/shop/items/")
        QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        await until(lambda: window.series_task is not None and window.series_task.done(), 180)
        seen["with"] = described(window.series_task.result())
        # The blocking view again, at the load of its last run (the toolbar's is changed first).
        click_item(catalogue.tree, "/shop/blocking/")
        controls.concurrency.setValue(1)
        controls.requests.setValue(1)
        previous = window.series_task
        window.compare_last_action.trigger()
        await until(lambda: window.series_task is not previous and window.series_task.done(), 180)
        seen["last"] = described(window.series_task.result())
        seen["history"] = window.history.count()
        for view in list(window.compare_windows):
            view.close()
        window.close()

    loop.run_until_complete(drive())
    loop.run_until_complete(window.wait_idle())
    loop.run_until_complete(lab.close())
    close_loop(loop)
    return seen


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    modes = {"refuse": refuse, "run": run, "compare": compare}
    print("RESULT " + json.dumps(modes[mode](path)), flush=True)
