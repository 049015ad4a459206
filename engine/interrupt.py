"""SIGINT and SIGTERM for a terminal run: the first one ends the run and keeps what it measured.

While the event loop runs, the loop owns the signals (``loop.add_signal_handler``): the
first one stops the load driver, so the run returns its partial record, which is then
summarised and exported as usual; a second one exits at once.  While starting up (imports,
migrating, building the loop) a signal is noted and acted on at the next safe point; after
the loop (the summary, the exports) it raises ``Interrupted``, which an export in progress
turns into "this file was not written" instead of half a file.

Exit statuses follow the shell's convention for a process ended by a signal, 128 + the
signal number: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal arrived outside the event loop; BaseException so that ``except Exception`` lets it through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum: int) -> int:
    """What a shell reports for a process ended by ``signum``: 128 + its number."""
    return 128 + signum


_pending: list[int] = []


def defer_signals() -> None:
    """From now on SIGINT/SIGTERM are only noted; ``raise_pending`` raises them at a safe point.

    For start-up: an exception raised from a signal handler in the middle of a C extension's
    initialisation (PySide6's does Python work while it loads) is a fatal error, not a
    clean stop, so nothing is raised until the code reaches a point where it can stop cleanly.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not _pending:
            _pending.append(signum)

    for signum in SIGNALS:
        signal.signal(signum, handler)


def take_pending() -> int | None:
    """The signal noted by ``defer_signals``, if one came; it is forgotten."""
    return _pending.pop() if _pending else None


def raise_pending() -> None:
    """Raise ``Interrupted`` for a signal noted by ``defer_signals``, if one came."""
    if _pending:
        raise Interrupted(_pending[0])


def raise_on_signals() -> None:
    """From now on SIGINT/SIGTERM raise ``Interrupted`` in the main thread (a no-op elsewhere);
    one that was noted and deferred is raised at once.  For pure-Python work only (the summary,
    the exports), where stopping anywhere is safe."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    for signum in SIGNALS:
        signal.signal(signum, handler)
    raise_pending()


def exit_now(signum: int, message: str) -> None:
    """Leave at once with one line on stderr: for the second signal, when the first one's
    orderly stop is what the person wants to skip.  The load driver sees its input close and
    quits by itself."""
    with contextlib.suppress(OSError, ValueError):  # a closed stderr must not stop the exit
        sys.stderr.write(f"{message}\n")
        sys.stderr.flush()
    os._exit(exit_status(signum))


def on_loop_signals(loop: object, handler: Callable[[int], None]) -> None:
    """Route SIGINT/SIGTERM to ``handler(signum)`` on ``loop`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        loop.add_signal_handler(signum, handler, signum)  # type: ignore[attr-defined]


def off_loop_signals(loop: object) -> None:
    """Take SIGINT/SIGTERM back from ``loop``: from now on they are noted (``defer_signals``)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        loop.remove_signal_handler(signum)  # type: ignore[attr-defined]
    defer_signals()
