"""GUI fixtures: one real Lab on a Qt-driven loop for the session, a fresh window per test,
and QSettings redirected to a temporary directory so no test touches the user's config."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def gui_settings_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    from PySide6.QtCore import QSettings

    path = str(tmp_path_factory.mktemp("qsettings"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, path)
    return path


@pytest.fixture(scope="session")
def gui_lab(qapp: Any, gui_settings_dir: str) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    """A started Lab whose server runs on the same Qt-driven loop as the window under test."""
    from engine.lab import Lab
    from engine.loops import close_loop, new_loop

    Lab.prepare()
    loop = new_loop("qt", gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind="qt")
    loop.run_until_complete(lab.start())
    yield lab, loop
    loop.run_until_complete(lab.close())
    close_loop(loop)


def run_until(
    loop: asyncio.AbstractEventLoop, predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.02
) -> bool:
    """Drive the loop (and so Qt) until ``predicate()`` holds or ``timeout`` seconds pass;
    ``interval`` 0 checks at every turn of the loop (for a state that lasts only a few turns)."""

    async def poll() -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(interval)
        return predicate()

    return loop.run_until_complete(poll())


def call_in_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> Any:
    """Call ``fn`` as a Qt slot would: with the asyncio loop running."""

    async def call() -> Any:
        return fn()

    return loop.run_until_complete(call())


@pytest.fixture
def window(gui_lab: tuple[Any, asyncio.AbstractEventLoop], qtbot: Any) -> Iterator[Any]:
    from gui.window import MainWindow

    lab, loop = gui_lab
    w = MainWindow(lab)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    controller, history = w.controller, w.history
    yield w
    import shiboken6

    # pytest-qt closes the widgets it was given and deletes them later, which may already have
    # happened; then the run (if any) is stopped and awaited here, never left to the next test.
    if shiboken6.isValid(w):
        loop.run_until_complete(w.wait_idle())
    else:
        if lab.running:
            lab.stop_run()
        task = controller.task
        if task is not None and not task.done():
            loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    # The history stores each run in a worker thread that holds the GIL while it encodes: let it
    # finish here, or it slows the next test's loop (a 100 ms timer there fires late).
    run_until(loop, lambda: history.pending == 0, 60)
    if shiboken6.isValid(w):  # the loop may have run pytest-qt's deferred delete meanwhile
        w.close()
