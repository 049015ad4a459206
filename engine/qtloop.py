"""An asyncio event loop whose waiting is done by Qt, so one thread serves both.

Why not stock qasync: it re-implements the loop on top of one Qt timer per callback
and one socket notifier per file descriptor, which costs about 30 % of uvicorn's
throughput and rounds every timer to Qt's coarse 5 % slack. Here asyncio's own
``_run_once`` (its scheduler, selector and callback queue, unchanged) does all the
asyncio work, and Qt only decides *when* to call it:

* one ``QSocketNotifier`` on the epoll selector's own fd: it becomes readable when any
  registered fd is ready, which covers sockets, the self-pipe that
  ``call_soon_threadsafe`` writes to and the wakeup fd of ``add_signal_handler``;
* one precise single-shot ``QTimer`` armed for the earliest ``call_at`` deadline;
* one zero-interval single-shot ``QTimer`` while ready callbacks are pending.

A tick never blocks: the selector's ``select`` always polls with timeout 0, because
the blocking wait already happened inside Qt. ``run_forever`` runs a ``QEventLoop``,
so widgets, Qt timers and input keep working on the same thread, also when a
``QApplication`` is already executing (the local loop nests inside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import selectors
import signal
import sys
import threading
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QSocketNotifier, Qt, QTimer

# Qt timers take whole milliseconds and a signed 32-bit interval; asyncio caps the
# selector timeout for the same reason (24 h), so a longer deadline just re-arms.
_MAX_TIMER_MS = 24 * 3600 * 1000


def _drop_own_frame(handle: asyncio.Handle) -> None:
    """Keep debug mode's "created at" pointing at the caller, not at this module's overrides.

    asyncio trims its own frames off ``handle._source_traceback`` (one per layer); the
    ``call_soon``/``call_at`` overrides here are one more layer, so they trim theirs.
    """
    source = handle._source_traceback
    if source and source[-1].filename == _THIS_FILE:
        del source[-1]


_THIS_FILE = _drop_own_frame.__code__.co_filename


class _PollingEpollSelector(selectors.EpollSelector):
    """An epoll selector whose ``select`` never waits: Qt has already waited."""

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        return super().select(0)


class QtSelectorEventLoop(asyncio.SelectorEventLoop):
    """``asyncio.SelectorEventLoop`` driven from a ``QEventLoop`` on the main thread.

    ``run_forever``/``run_until_complete``/``stop``/``close`` keep asyncio's semantics.
    If Qt itself quits the nested event loop (``QCoreApplication.quit()``, e.g. when
    the last window closes), ``run_forever`` returns as though ``stop()`` was called.
    """

    def __init__(self) -> None:
        super().__init__(_PollingEpollSelector())
        self._qt_loop: QEventLoop | None = None
        self._notifier: QSocketNotifier | None = None
        self._deadline_timer: QTimer | None = None
        self._soon_timer: QTimer | None = None
        self._armed_when: float | None = None
        self._qt_running = False  # True between run_forever's setup and cleanup
        self._ticking = False  # True while _run_once runs (re-entrancy guard)
        self._tick_error: BaseException | None = None
        self._claimed_wakeup_fd = False  # True while run_forever owns signal.set_wakeup_fd
        self._replaced_sigint = False  # True while run_forever's own SIGINT handler is installed

    # -- Qt objects ---------------------------------------------------------------

    def _make_qt_objects(self) -> None:
        # Created lazily on the thread that runs the loop (Qt objects belong to the
        # thread that creates them) and only once a QCoreApplication exists.
        if QCoreApplication.instance() is None:
            raise RuntimeError("QtSelectorEventLoop needs a QCoreApplication/QApplication; create one first")
        if self._notifier is not None:
            return
        self._notifier = QSocketNotifier(self._selector.fileno(), QSocketNotifier.Type.Read)
        self._notifier.setEnabled(False)
        self._notifier.activated.connect(self._tick)
        self._deadline_timer = QTimer()
        self._deadline_timer.setSingleShot(True)
        self._deadline_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._deadline_timer.timeout.connect(self._on_deadline)
        self._soon_timer = QTimer()
        self._soon_timer.setSingleShot(True)
        self._soon_timer.setInterval(0)
        self._soon_timer.timeout.connect(self._tick)

    def _release_qt_objects(self) -> None:
        if self._notifier is None:
            return
        # A loop never closed is closed by its __del__, possibly after Qt has deleted the
        # C++ objects at interpreter exit; there is nothing left to release then.
        with contextlib.suppress(RuntimeError):
            self._notifier.setEnabled(False)
            self._notifier.activated.disconnect(self._tick)
            self._deadline_timer.stop()
            self._deadline_timer.timeout.disconnect(self._on_deadline)
            self._soon_timer.stop()
            self._soon_timer.timeout.disconnect(self._tick)
        # Python owns these parentless objects: dropping the references deletes them.
        self._notifier = self._deadline_timer = self._soon_timer = None

    # -- scheduling hooks ---------------------------------------------------------

    def call_soon(self, callback: Any, *args: Any, context: Any = None) -> asyncio.Handle:
        # Inside a tick the ready queue is looked at when the tick ends; only calls
        # from Qt slots (outside a tick) need to wake the loop. call_soon_threadsafe
        # does not come through here (it uses _call_soon plus the self-pipe), so no
        # Qt object is touched from another thread.
        if self._debug:
            handle = super().call_soon(callback, *args, context=context)
            _drop_own_frame(handle)
        else:
            self._check_closed()
            handle = self._call_soon(callback, args, context)
        if self._qt_running and not self._ticking and not self._soon_timer.isActive():
            self._soon_timer.start()
        return handle

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        handle = super().call_at(when, callback, *args, context=context)
        _drop_own_frame(handle)
        if self._qt_running and not self._ticking:
            self._arm()
        return handle

    def stop(self) -> None:
        super().stop()
        if self._qt_running and not self._ticking:
            self._soon_timer.start()

    def _arm(self) -> None:
        """Arm Qt for the next tick; called after each tick and after calls from Qt slots."""
        if self._ready or self._stopping:
            if not self._soon_timer.isActive():
                self._soon_timer.start()
            return
        if not self._scheduled:
            if self._armed_when is not None:
                self._deadline_timer.stop()
                self._armed_when = None
            return
        when = self._scheduled[0]._when
        if when == self._armed_when and self._deadline_timer.isActive():
            return
        # Round up: a timer that fired early would only cost an empty tick and a
        # re-arm, but rounding down to 0 ms would spin until the deadline.
        delay_ms = min(max(0, math.ceil((when - self.time()) * 1000)), _MAX_TIMER_MS)
        self._deadline_timer.start(delay_ms)
        self._armed_when = when

    def _on_deadline(self) -> None:
        self._armed_when = None
        self._tick()

    def _tick(self, *_: Any) -> None:
        """One asyncio iteration, called by Qt when something may be due."""
        if not self._qt_running:
            return
        if self._ticking:
            # A callback started a nested Qt event loop (a modal dialog, say). asyncio
            # is not re-entrant, so park the level-triggered notifier (it would spin)
            # until the outer tick ends.
            self._notifier.setEnabled(False)
            return
        self._ticking = True
        try:
            self._run_once()
        except BaseException as exc:  # noqa: BLE001 (KeyboardInterrupt/SystemExit from a callback: re-raised by run_forever)
            self._tick_error = exc
            self._stopping = True
        finally:
            self._ticking = False
        if self._stopping:
            self._leave_qt_loop()
            return
        if not self._notifier.isEnabled():
            self._notifier.setEnabled(True)
        self._arm()

    def _leave_qt_loop(self) -> None:
        self._qt_running = False
        self._notifier.setEnabled(False)
        self._soon_timer.stop()
        self._qt_loop.exit(0)

    # -- running ------------------------------------------------------------------

    def run_forever(self) -> None:
        """Run until ``stop()``; Qt events are processed meanwhile."""
        self._check_closed()
        self._make_qt_objects()
        self._run_setup()
        try:
            self._claim_signal_wakeup()
            self._qt_loop = QEventLoop()
            self._tick_error = None
            self._qt_running = True
            self._notifier.setEnabled(True)
            # The first tick runs what is already queued (and honours an early stop()).
            self._soon_timer.start()
            self._qt_loop.exec()
            error, self._tick_error = self._tick_error, None
            if error is not None:
                raise error
        finally:
            self._qt_running = False
            if self._notifier is not None:
                self._notifier.setEnabled(False)
                self._soon_timer.stop()
                self._deadline_timer.stop()
                self._armed_when = None
            self._qt_loop = None
            self._release_signal_wakeup()
            self._run_cleanup()

    def _claim_signal_wakeup(self) -> None:
        """Make a signal wake Qt at once, as ``select()`` returning EINTR wakes plain asyncio.

        CPython runs a Python signal handler (``asyncio.run``'s SIGINT handler, say) only when
        the main thread next runs Python code. Plain asyncio's ``select`` is interrupted by
        the signal; Qt's ``poll`` restarts itself, so without this Ctrl-C would wait for the
        next timer. The C-level handler writes the signal number to the wakeup fd; pointing
        it at the self-pipe (already in the epoll set Qt watches) runs a tick, and with it
        the handler, within a millisecond. ``add_signal_handler`` uses the same fd, and the
        self-pipe reader ignores signal numbers without an asyncio handler. A wakeup fd that
        someone else set is left alone.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        fd = self._csock.fileno()
        try:
            old = signal.set_wakeup_fd(fd)
        except ValueError:  # not the main interpreter
            return
        if old not in (-1, fd):
            signal.set_wakeup_fd(old)
            return
        self._claimed_wakeup_fd = old == -1
        # Python's default SIGINT handler raises KeyboardInterrupt wherever the main thread
        # is; between ticks that is the first line of a Qt slot, where PySide cannot pass it
        # on (the process crashed). Ours raises it out of run_forever instead, as plain
        # asyncio's interrupted select() does. Other handlers (asyncio.run's) stay.
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._on_sigint)
            self._replaced_sigint = True

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._ticking or not self._qt_running:
            raise KeyboardInterrupt  # inside asyncio code: propagates like any callback error
        self._tick_error = KeyboardInterrupt()
        self._stopping = True
        self._leave_qt_loop()

    def _release_signal_wakeup(self) -> None:
        if self._replaced_sigint:
            self._replaced_sigint = False
            if signal.getsignal(signal.SIGINT) == self._on_sigint:
                signal.signal(signal.SIGINT, signal.default_int_handler)
        if self._claimed_wakeup_fd:
            self._claimed_wakeup_fd = False
            # add_signal_handler may have claimed the fd meanwhile; it then keeps it.
            if not self._signal_handlers:
                signal.set_wakeup_fd(-1)

    if sys.version_info >= (3, 13):

        def _run_setup(self) -> None:
            self._run_forever_setup()

        def _run_cleanup(self) -> None:
            self._run_forever_cleanup()

    else:
        # Python 3.12 has the same steps inline in BaseEventLoop.run_forever.

        def _run_setup(self) -> None:
            self._check_closed()
            self._check_running()
            self._set_coroutine_origin_tracking(self._debug)
            self._old_agen_hooks = sys.get_asyncgen_hooks()
            self._thread_id = threading.get_ident()
            sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook)
            asyncio.events._set_running_loop(self)

        def _run_cleanup(self) -> None:
            self._stopping = False
            self._thread_id = None
            asyncio.events._set_running_loop(None)
            self._set_coroutine_origin_tracking(False)
            if self._old_agen_hooks is not None:
                sys.set_asyncgen_hooks(*self._old_agen_hooks)
                self._old_agen_hooks = None

    def close(self) -> None:
        """Release the Qt notifier and timers, then the selector and self-pipe."""
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        self._release_qt_objects()
        super().close()
