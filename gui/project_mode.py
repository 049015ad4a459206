"""The window with a person's own project: ``./explorer --project PATH [--settings M]
[--db-copy] [--install]``, and File → Open project… / Back to the demo site.

Django is set up once per process, so switching between the demo site and a project (or
between projects) closes the window cleanly and starts the lab again with the new options
(``relaunch``; the window says so before it does).  A project that cannot be loaded is one
line on the terminal and a dialog, then exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from embedded_site.project import ProjectError, active, locate

WINDOW_FLAGS = ("--project", "--settings", "--db-copy", "--install")
MAIN = Path(__file__).resolve().parent.parent / "main.py"
_relaunch: list[list[str]] = []  # the arguments to start again with, once the window has closed


def is_window_args(argv: list[str]) -> bool:
    """Whether ``main.py ARGS`` opens the window (with a project) rather than a command."""
    return bool(argv) and argv[0].split("=", 1)[0] in WINDOW_FLAGS


class _Refused(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _Refused(f"{message} (see python main.py --help)")


def load_for_window(argv: list[str]) -> int | None:
    """Set the project up before the window opens: None to go on, or 2 after one line and a dialog."""
    if not argv:
        return None
    from engine.commands.project import add_project_options, load

    parser = _Parser(prog="python main.py")
    add_project_options(parser)
    try:
        args = parser.parse_args(argv)
        load(args, argv)
    except (ProjectError, _Refused) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        _dialog(str(exc))
        return 2
    project = active()
    if project is not None:
        from embedded_site.project.database import describe

        from .project_panel import DATABASE_LINE

        line = describe(project)
        DATABASE_LINE[:] = [line]
        print(line, file=sys.stderr, flush=True)
    return None


def _dialog(message: str) -> None:
    from PySide6.QtWidgets import QMessageBox

    from engine.loops import ensure_qt_app

    ensure_qt_app(gui=True)
    QMessageBox.critical(None, "The project cannot be served", message)


def install(window: Any) -> None:
    """File → Open project… (and Back to the demo site while a project is served)."""
    from PySide6.QtWidgets import QMenu

    file_menu: QMenu = window.menuBar().actions()[0].menu()
    quit_action = next(a for a in file_menu.actions() if a.text() == "Quit")
    opener = file_menu.addAction("Open project…")
    opener.triggered.connect(lambda: open_project(window))
    file_menu.insertAction(quit_action, opener)
    if active() is not None:
        back = file_menu.addAction("Back to the demo site")
        back.triggered.connect(lambda: confirm_relaunch(window, [], "the demo site"))
        file_menu.insertAction(quit_action, back)
    file_menu.insertSeparator(quit_action)
    if active() is not None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, lambda: _select_first_route(window))


def _select_first_route(window: Any) -> None:
    """With no earlier choice restored, start on the first pattern that runs as it is."""
    catalogue = window.catalogue
    if catalogue.current is not None:
        return
    for target in catalogue.targets.values():
        if target.route is not None and target.route.path is not None:
            catalogue.select(target.id)
            return


def open_project(window: Any, folder: str | None = None) -> bool:
    """Ask for a project folder, check it, and restart the lab serving it."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    if folder is None:
        folder = QFileDialog.getExistingDirectory(window, "Open a Django project (the folder with manage.py)")
        if not folder:
            return False
    try:
        project = locate(folder)
    except ProjectError as exc:
        QMessageBox.warning(window, "Not a project the lab can open", str(exc))
        return False
    return confirm_relaunch(window, ["--project", str(project.root)], f"{project.name} ({project.settings_module})")


def confirm_relaunch(window: Any, args: list[str], what: str) -> bool:
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        window,
        "Restart the lab?",
        f"Django is set up once per process, so the lab closes this window and starts again "
        f"serving {what}. This session's runs are not kept. Restart now?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    _relaunch[:] = [args]
    window.close()
    return True


def relaunch_requested() -> list[str] | None:
    return _relaunch[0] if _relaunch else None


def exec_if_asked() -> None:
    """After the window has closed and the lab stopped: start again with the chosen options."""
    args = relaunch_requested()
    if args is None:
        return
    os.environ.pop("EXPLORER_PROJECT_ENV", None)  # the next project picks its own environment
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, str(MAIN), *args])
