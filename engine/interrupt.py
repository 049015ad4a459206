"""SIGINT and SIGTERM for a terminal run: the first one ends the run and keeps what it measured.

While the event loop runs, the loop owns the signals (``loop.add_signal_handler``): the
first one stops the load driver, so the run returns its partial record, which is then
summarised and exported as usual; a second one exits at once.  Before and after the loop
(migrating, computing the summary, writing exports) a signal raises ``Interrupted``, which
an export in progress turns into "this file was not written" instead of half a file.

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


def raise_on_signals() -> None:
    """From now on SIGINT/SIGTERM raise ``Interrupted`` in the main thread (a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    for signum in SIGNALS:
        signal.signal(signum, handler)


def exit_now(signum: int, message: str) -> None:
    """Leave at once with one line on stderr: for the second signal, when the first one's
    orderly stop is what the person wants to skip.  The load driver sees its input close and
    quits by itself."""
    with contextlib.suppress(OSError, ValueError):  # a closed stderr must not stop the exit
        sys.stderr.write(f"{message}\n")
        sys.stderr.flush()
    os._exit(exit_status(signum))


def on_loop_signals(loop: object, handler: Callable[[int], None]) -> None:
    """Route SIGINT/SIGTERM to ``handler(signum)`` on ``loop`` until it closes (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        loop.add_signal_handler(signum, handler, signum)  # type: ignore[attr-defined]
