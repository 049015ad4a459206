"""The window's Server menu: which server serves the window's runs, with its workers and threads.

The same choice as ``main.py run --server NAME [--workers N] [--threads N]``, checked by the
same rules (``engine.commands.servers.spec``) and started the same way: ``Lab.use_server``
stops the server the lab has and starts the chosen one, the embedded uvicorn on this
window's loop or the same site in a child process whose spans, lag and stalls stream back
into the run record (``engine.servers.child``).  Every run from the window then goes through
the one ``Lab.run``, so its record, findings and comparisons name the server as a headless
run's do.  A server that does not start is one message; the previous server is started
again and the lab keeps running.

The choice lasts while the window is open: a child server is started only when asked for.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QInputDialog, QMessageBox

from embedded_site.datadir import SiteSetupError
from engine.commands.servers import ONE_PROCESS, THREADED, spec
from engine.lab import RunInProgress
from engine.server import ServerError
from engine.servers import EMBEDDED, MAX_THREADS, MAX_WORKERS, SERVERS, ServerSpec

DESCRIPTIONS = {
    EMBEDDED: "embedded: the lab's own uvicorn on this window's loop",
    "uvicorn": "uvicorn (child process)",
    "daphne": "daphne (child process)",
    "hypercorn": "hypercorn (child process)",
    "granian": "granian (child process)",
    "gunicorn-asgi": "gunicorn with uvicorn workers, ASGI (child process)",
    "gunicorn-wsgi": "gunicorn under WSGI, sync / gthread workers (child process)",
}


def describe(server: ServerSpec) -> str:
    """'Now: uvicorn in a child process, 2 workers' (the menu's first line)."""
    if server.name == EMBEDDED:
        return "Now: embedded (the lab's own uvicorn, on this window's loop)"
    how = f"{server.workers} worker{'s' if server.workers != 1 else ''}"
    if server.name in THREADED:
        how += f" × {server.threads} thread{'s' if server.threads != 1 else ''} ({server.as_dict()['worker']})"
    return f"Now: {server.name} in a child process, {how}"


def install(window: Any) -> None:
    """Add the Server menu to ``window``'s menu bar (before Help)."""
    from . import project_mode

    menu = window.menuBar().addMenu("&Server")
    window.server_menu = menu
    window.server_task = None
    window.server_now = menu.addAction(describe(window.lab.server_spec))
    window.server_now.setEnabled(False)
    menu.addSeparator()
    group = QActionGroup(menu)
    window.server_actions = {}
    for name in SERVERS:
        action = QAction(DESCRIPTIONS.get(name, name), menu, checkable=True)
        action.setChecked(name == window.lab.server_spec.name)
        action.triggered.connect(lambda _c=False, n=name: choose(window, n))
        group.addAction(action)
        menu.addAction(action)
        window.server_actions[name] = action
    menu.addSeparator()
    window.server_workers = window.lab.server_spec.workers
    window.server_threads = window.lab.server_spec.threads
    window.workers_action = menu.addAction("Workers…", lambda: ask_workers(window))
    window.threads_action = menu.addAction("Threads per worker…", lambda: ask_threads(window))
    if project_mode.active() is not None:  # a child serves the lab's demo site, not a project
        for action in window.server_actions.values():
            action.setEnabled(False)
        window.server_now.setText(describe(window.lab.server_spec) + " (a project is served by the lab itself)")
    _sync(window)


def _sync(window: Any) -> None:
    """The menu as the lab has it: its server ticked, workers/threads where they apply."""
    current = window.lab.server_spec
    switching = window.server_task is not None and not window.server_task.done()
    window.server_now.setText(describe(current) if not switching else "Starting the server…")
    window.server_actions[current.name].setChecked(True)
    window.workers_action.setText(f"Workers: {window.server_workers}…")
    window.threads_action.setText(f"Threads per worker: {window.server_threads}…")
    window.workers_action.setEnabled(current.name not in ONE_PROCESS and not switching)
    window.threads_action.setEnabled(current.name in THREADED and not switching)
    # A child server's blocking views block the child's loop, not this window's.
    window.controls.loop_shared = current.name == EMBEDDED
    if hasattr(window, "banner"):
        window._update_banner()
    if hasattr(window, "url_label"):  # the status bar is built after the menus
        url = window.lab.url if window.lab.server is not None else ""
        window.url_label.setText(f"Site: <a href='{url}/'>{url}/</a>")


def wanted(window: Any, name: str) -> ServerSpec:
    """``name`` with the menu's workers and threads where they apply (raises SiteSetupError)."""
    workers = 1 if name in ONE_PROCESS else window.server_workers
    threads = window.server_threads if name in THREADED else 1
    return spec(name, workers, threads)


def choose(window: Any, name: str) -> asyncio.Task[bool] | None:
    """Serve the window's runs with ``name``; the task that starts it (None if refused)."""
    try:
        chosen = wanted(window, name)
    except SiteSetupError as exc:
        _refuse(window, str(exc))
        return None
    if chosen == window.lab.server_spec:
        _sync(window)
        return None
    if window.controller.busy or (window.server_task is not None and not window.server_task.done()):
        _sync(window)
        window.statusBar().showMessage("A run is going: stop it (Esc) before changing the server.", 6000)
        return None
    window.server_task = asyncio.get_running_loop().create_task(_switch(window, chosen), name="explorer-server")
    _sync(window)
    return window.server_task


async def _switch(window: Any, chosen: ServerSpec) -> bool:
    window.run_action.setEnabled(False)
    window.statusBar().showMessage(f"Starting {chosen.name}…", 60000)
    try:
        await window.lab.use_server(chosen)
    except (ServerError, RunInProgress) as exc:
        window.statusBar().showMessage(f"The server was not changed: {exc}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "The server did not start", str(exc), parent=window)
        box.setObjectName("server-failed")
        box.setInformativeText(f"The lab goes on with {window.lab.server_spec.name}.")
        window.server_failure = box
        box.open()  # not exec(): the lab's loop keeps running
        return False
    finally:
        window.run_action.setEnabled(not window.controller.busy)
        window.server_task = None
        _sync(window)
    window.statusBar().showMessage(describe(chosen).removeprefix("Now: ") + ": the next run uses it.", 8000)
    return True


def ask_workers(window: Any) -> None:
    value, ok = QInputDialog.getInt(
        window, "Workers", "Worker processes of the child server:", window.server_workers, 1, MAX_WORKERS
    )
    if ok:
        set_shape(window, workers=value)


def ask_threads(window: Any) -> None:
    value, ok = QInputDialog.getInt(
        window,
        "Threads per worker",
        "gunicorn-wsgi threads per worker (gthread):",
        window.server_threads,
        1,
        MAX_THREADS,
    )
    if ok:
        set_shape(window, threads=value)


def set_shape(window: Any, workers: int | None = None, threads: int | None = None) -> asyncio.Task[bool] | None:
    """New workers/threads for the current server: it is started again with them."""
    if workers is not None:
        window.server_workers = workers
    if threads is not None:
        window.server_threads = threads
    return choose(window, window.lab.server_spec.name)


def _refuse(window: Any, message: str) -> None:
    _sync(window)
    box = QMessageBox(QMessageBox.Icon.Warning, "Server", message, parent=window)
    box.setObjectName("server-refused")
    window.server_failure = box
    box.open()
