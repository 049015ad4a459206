"""One place that builds the app's event loops, so every caller (app, tests, bench) gets the same three kinds.

* ``"qt"`` (default): ``engine.qtloop.QtSelectorEventLoop``; asyncio's own scheduler woken by
  Qt, near plain-asyncio throughput with a working GUI on the same thread.
* ``"qasync"``: stock ``qasync.QEventLoop`` with one change, precise Qt timers, so that what it
  costs can be seen next to the others without its timer slack muddying sleep measurements.
* ``"asyncio"``: a plain ``asyncio.new_event_loop()``, the baseline; no Qt needed.

``run`` owns SIGINT/SIGTERM (uvicorn's own handlers are off in ``engine.server``): a signal
cancels the main task, so the coroutine's ``finally`` does the graceful shutdown and the
process can exit 0 instead of dying with a traceback.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

LOOP_KINDS = ("qt", "qasync", "asyncio")
DEFAULT_KIND = "qt"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Qt timers take a signed 32-bit millisecond interval; a longer delay is re-armed.
_MAX_TIMER_MS = 24 * 3600 * 1000

_app: Any = None  # keeps the Qt application object alive for the process


def ensure_qt_app(gui: bool) -> Any:
    """Return the running process's Qt application, creating one if there is none.

    ``gui=False`` makes a ``QCoreApplication`` (headless: no display needed); ``gui=True`` a
    ``QApplication``. An existing ``QCoreApplication`` cannot become a GUI one, so asking for
    ``gui=True`` then is an error rather than a later crash when the first widget is made.
    Returns a ``QCoreApplication`` (never ``None`` in practice; typed loosely to keep Qt
    imports lazy).
    """
    global _app
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is not None:
        if gui:
            from PySide6.QtWidgets import QApplication

            if not isinstance(app, QApplication):
                raise RuntimeError("a headless QCoreApplication already exists; the GUI needs a QApplication")
        return app
    argv = sys.argv[:1] or ["explorer"]
    if gui:
        from PySide6.QtWidgets import QApplication

        _app = QApplication(argv)
    else:
        _app = QCoreApplication(argv)
    return _app


def _precise_qasync_loop_class() -> type[asyncio.AbstractEventLoop]:
    """Stock qasync 0.28 with timers that fire neither early nor coarsely, nor overflow.

    qasync starts one QObject timer per callback with ``startTimer(int(delay * 1000))``:
    Qt's default coarse type may fire 5 % late (15 ms on a 0.3 s sleep), ``int`` rounds
    down (215 of 500 sleeps ended up to 0.92 ms early) and more than 2**31 ms (about 25
    days) is a ``SystemError``. Here a timer is precise, rounded up, at most 24 h long, and
    when it fires before its deadline (rounding, or a clamped long delay) it is re-armed
    for the rest. Only the timer object changes; the loop itself is qasync's.
    """
    import math
    import time

    import qasync
    from PySide6.QtCore import Qt

    class _PreciseSimpleTimer(qasync._SimpleTimer):
        def __init__(self) -> None:
            super().__init__()
            self._deadlines: dict[int, float] = {}  # timer id -> loop.time() it is for

        def add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
            return self._start(handle, time.monotonic() + max(0, delay))  # qasync's loop.time()

        def _start(self, handle: asyncio.Handle, deadline: float) -> asyncio.Handle:
            delay_ms = min(max(0, math.ceil((deadline - time.monotonic()) * 1000)), _MAX_TIMER_MS)
            timerid = self.startTimer(delay_ms, Qt.TimerType.PreciseTimer)
            self._SimpleTimer__callbacks[timerid] = handle  # the base class's private map
            self._deadlines[timerid] = deadline
            return handle

        def timerEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
            timerid = event.timerId()
            deadline = self._deadlines.pop(timerid, None)
            if deadline is not None and not self._stopped and time.monotonic() < deadline:
                self.killTimer(timerid)
                handle = self._SimpleTimer__callbacks.pop(timerid)
                if not handle._cancelled:
                    self._start(handle, deadline)
                return
            super().timerEvent(event)

        def kill_all(self) -> None:
            """Stop every Qt timer still armed (qasync leaves them to die as they fire, which
            for a long delay is a day later, long after the loop is gone)."""
            for timerid in list(self._SimpleTimer__callbacks):
                self.killTimer(timerid)
            self._SimpleTimer__callbacks.clear()
            self._deadlines.clear()

    class PreciseQasyncEventLoop(qasync.QEventLoop):
        def __init__(self, app: Any = None) -> None:
            super().__init__(app)
            self._timer = _PreciseSimpleTimer()  # the coarse one never had a callback yet

        def close(self) -> None:
            closing = not self.is_closed()
            super().close()
            if closing:
                self._timer.kill_all()

    return PreciseQasyncEventLoop


def new_loop(kind: str = DEFAULT_KIND, *, gui: bool = False) -> asyncio.AbstractEventLoop:
    """A new, not yet running event loop of ``kind``; creates the Qt application if needed."""
    if kind == "asyncio":
        return asyncio.new_event_loop()
    if kind == "qt":
        ensure_qt_app(gui)
        from .qtloop import QtSelectorEventLoop

        return QtSelectorEventLoop()
    if kind == "qasync":
        app = ensure_qt_app(gui)
        return _precise_qasync_loop_class()(app)
    raise ValueError(f"unknown event loop kind {kind!r}; choose one of {', '.join(LOOP_KINDS)}")


@dataclass
class RunInfo:
    """Filled in by ``run`` for a caller who wants to know how the run ended."""

    signal: int | None = None  # the first SIGINT/SIGTERM that cancelled the main task

    @property
    def interrupted(self) -> bool:
        return self.signal is not None


def run[T](
    main: Coroutine[Any, Any, T],
    kind: str = DEFAULT_KIND,
    *,
    gui: bool = False,
    handle_signals: bool = True,
    info: RunInfo | None = None,
) -> T | None:
    """Run ``main`` to completion on a new loop of ``kind``, then tidy up and close the loop.

    Returns what ``main`` returns; its exceptions propagate. With ``handle_signals`` (main
    thread only) SIGINT/SIGTERM cancel the main task; if it then ends cancelled, ``run``
    returns ``None`` instead of raising and records the signal in ``info.signal`` (pass a
    ``RunInfo`` to see it). Every signal cancels again, so a second Ctrl+C interrupts a
    shutdown that hangs in an ``await``. Afterwards leftover tasks are cancelled, async
    generators and the default executor are shut down and the loop is closed.
    """
    info = info if info is not None else RunInfo()
    try:
        loop = new_loop(kind, gui=gui)
    except BaseException:
        main.close()  # never awaited: avoid the "coroutine was never awaited" warning
        raise
    installed: list[int] = []
    try:
        asyncio.set_event_loop(loop)
        task = loop.create_task(main, name="main")

        def on_signal(signum: int) -> None:
            if info.signal is None:
                info.signal = signum
            task.cancel()

        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                loop.add_signal_handler(signum, on_signal, signum)
                installed.append(signum)
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if info.signal is None:
                raise
            return None
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does at the end, for a loop someone else ran: cancel leftover
    tasks, close async generators and the default executor, unset and close the loop."""
    try:
        _cancel_leftover_tasks(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what ``main`` left running and wait for it, as ``asyncio.run`` does.

    Repeated a few times because a server that was cancelled rather than stopped still
    has open connections, and data arriving on them while we wait starts new tasks.
    """
    for _ in range(5):
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        if not pending:
            return
        for t in pending:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for t in pending:
            if not t.cancelled() and t.exception() is not None:
                loop.call_exception_handler(
                    {
                        "message": "unhandled exception in a task left running by main",
                        "exception": t.exception(),
                        "task": t,
                    }
                )
