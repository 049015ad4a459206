"""Start-up and shut-down: Lab.prepare() → QApplication → Qt-driven asyncio loop → server → window.

The order matters: ``Lab.prepare()`` does synchronous ORM work, which Django refuses once
an event loop runs on this thread; and the window must share the server's loop, which is
the whole point (a blocked loop freezes the window, and the user sees it).  Django is set up
before PySide6 is imported because PySide6 installs an import hook that every later import
goes through: Django's few hundred modules imported after it cost ~60 ms more.

``EXPLORER_EXIT_AFTER_READY=1`` (used by ``bench/startup.py``): once the window has been
shown and painted and the site answered ``GET /`` with 200, print ``ready <time.time_ns()>``
to stdout and close the window, so the start-up time can be measured from outside.
``EXPLORER_REPORT_READY=1`` prints the same line and leaves the window open (for tests that
then signal the process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

from engine.lab import Lab
from engine.loops import close_loop, ensure_qt_app, new_loop

LOOP_KIND = "qt"
EXIT_AFTER_READY = "EXPLORER_EXIT_AFTER_READY"
REPORT_READY = "EXPLORER_REPORT_READY"  # the same line, but the window stays open (tests)


def main(argv: list[str] | None = None) -> int:
    """Run the explorer window until it is closed; returns the process exit code."""
    if argv is not None:
        sys.argv = [sys.argv[0] if sys.argv else "explorer", *argv]
    from .project_mode import exec_if_asked, load_for_window

    if (refused := load_for_window(argv or [])) is not None:  # --project PATH: a person's own site
        return refused
    from .database_menu import apply_saved

    apply_saved()  # the saved database, before Django reads its settings
    Lab.prepare()
    app = ensure_qt_app(gui=True)
    app.setOrganizationName("DjangoAsyncExplorer")
    app.setApplicationName("Explorer")
    app.setApplicationDisplayName("Django Async Explorer")
    loop = new_loop(LOOP_KIND, gui=True)
    asyncio.set_event_loop(loop)
    lab = Lab(loop_kind=LOOP_KIND, keep_port=True)
    quit_on_signal = _QuitOnSignal(loop)
    try:
        loop.run_until_complete(lab.start())
        from .window import MainWindow

        window = MainWindow(lab)
        # Sized by the window itself: to the available screen on first launch, then as left.
        window.closed.connect(loop.stop)
        quit_on_signal.attach(window)
        if os.environ.get(EXIT_AFTER_READY) or os.environ.get(REPORT_READY):
            _report_ready(loop, window, lab.url, close=bool(os.environ.get(EXIT_AFTER_READY)))
        window.show()
        loop.run_forever()
        loop.run_until_complete(window.wait_idle())
    finally:
        loop.run_until_complete(lab.close())
        close_loop(loop)
    exec_if_asked()  # File → Open project…: start again serving the chosen project
    return 0


class _QuitOnSignal:
    """SIGTERM (a logout, ``kill``, a service manager) and SIGINT (Ctrl-C in the terminal that
    started the window) take the same way out as File → Quit: the window closes, a run in
    progress stops, the server closes, and the process exits 0.

    Without this SIGTERM killed the process at once (exit 143) with the server and the
    load driver still running. A signal that arrives while the server is still starting
    closes the window as soon as it is shown.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.window: Any = None
        self.requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal)

    def attach(self, window: Any) -> None:
        self.window = window
        if self.requested:
            self.loop.call_soon(window.close)  # runs once the loop runs, after show()

    def _on_signal(self) -> None:
        self.requested = True
        if self.window is not None:
            self.window.close()


def _report_ready(loop: asyncio.AbstractEventLoop, window: Any, url: str, close: bool = True) -> None:
    """The start-up probe (call before ``show``): once the timeline canvas has painted and the
    site answers ``GET /``, print ``ready <time.time_ns()> status <code>`` and close the window."""
    from PySide6.QtCore import QEvent, QObject

    painted = loop.create_future()

    class FirstPaint(QObject):
        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.Paint and not painted.done():
                painted.set_result(None)
            return False

    spy = FirstPaint(window)
    window.canvas.installEventFilter(spy)

    async def probe() -> None:
        await painted
        window.canvas.removeEventFilter(spy)
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        status = (await reader.readline()).split()[1].decode()
        await reader.read()
        writer.close()
        print(f"ready {time.time_ns()} status {status}", flush=True)
        if close:
            window.close()

    # asyncio holds tasks only weakly: keep this one, or the collector may take it (with the
    # future it waits on) before the first paint, as it did under Xvfb.
    window.ready_probe = loop.create_task(probe(), name="ready-probe")
