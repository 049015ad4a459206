"""Where a run's exports go: checked before the run starts, written whole or not at all.

A run can take minutes; finding out afterwards that ``--csv`` points into a missing folder
would throw away everything it measured.  So every destination is checked first (a
directory, a missing folder, an unwritable file or folder are each one clear sentence),
and each file is written to a temporary name in the same folder and renamed into place:
a signal or a crash mid-export leaves either the whole previous file, the whole new one,
or nothing, never half a file.  ``-`` means standard output.

The writers themselves (``engine.exports``) take a record and a path; this module only
decides which path they write to and what happens to it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STDOUT = "-"


class DestinationError(ValueError):
    """An export destination that cannot be written; the message says which and why."""


@dataclass(frozen=True)
class Destination:
    """A checked export target: ``flag`` (for messages), and a path or standard output."""

    flag: str
    path: Path | None  # None: standard output

    @property
    def to_stdout(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        return "standard output" if self.path is None else str(self.path)


def check_destinations(requested: Sequence[tuple[str, str | None]]) -> list[Destination]:
    """Check every ``(flag, value)`` pair given (values of None are skipped), before anything runs.

    Refuses two exports into one file, more than one export to standard output, and any
    path that ``check_destination`` refuses.
    """
    found: list[Destination] = []
    for flag, value in requested:
        if value is None:
            continue
        destination = check_destination(flag, value)
        for earlier in found:
            if destination.to_stdout and earlier.to_stdout:
                raise DestinationError(f"{earlier.flag} and {flag} both write to standard output (-); pick one")
            if destination.path is not None and earlier.path is not None and _same_file(destination.path, earlier.path):
                raise DestinationError(f"{earlier.flag} and {flag} both write to {destination.path}; give two files")
        found.append(destination)
    return found


def check_destination(flag: str, value: str) -> Destination:
    """One destination: ``-``, or a file path whose folder exists and may be written."""
    if value == STDOUT:
        return Destination(flag, None)
    if not value or "\0" in value:
        raise DestinationError(f"{flag} needs a file name, got {value!r}")
    path = Path(value).expanduser()
    if path.is_symlink():  # write where the link points: renaming over it would replace the link
        path = path.resolve()
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # the folder is judged below
        info = None
    except OSError as exc:
        raise DestinationError(f"{flag} {value}: {_reason(exc)}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise DestinationError(f"{flag} {value} is a directory; give a file name inside it")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise DestinationError(f"{flag} {value}: the folder {folder} {what}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        # A device or a pipe (e.g. /dev/null): written in place, never renamed over.
        if not os.access(path, os.W_OK):
            raise DestinationError(f"{flag} {value} cannot be written (permission denied)")
        return Destination(flag, path)
    if info is not None and not _writable_file(path):
        raise DestinationError(f"{flag} {value} cannot be written (permission denied)")
    try:
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".check", delete=True)
    except OSError as exc:
        raise DestinationError(f"{flag} {value}: cannot create a file in {folder} ({_reason(exc)})") from None
    probe.close()
    return Destination(flag, path)


def write_atomically(destination: Destination, writer: Callable[[Any, Path], Any], record: Any) -> None:
    """Run ``writer(record, path)`` so that ``destination`` ends up whole or untouched.

    A regular file is written under a temporary name in its own folder and renamed into
    place (the same file system, so the rename is atomic); if anything interrupts the
    writer (an exception, KeyboardInterrupt, SystemExit) the temporary file is removed
    and the exception goes on.  Standard output gets the finished file copied to it.
    """
    if destination.path is not None and not _is_regular_or_missing(destination.path):
        writer(record, destination.path)
        return
    folder = destination.path.parent if destination.path is not None else None
    name = destination.path.name if destination.path is not None else "stdout"
    temporary: str | None = None
    try:
        # A signal that lands between the file's creation and ``temporary`` naming it would
        # leave it behind: SIGINT/SIGTERM wait (blocked) until the name is known.
        with _signals_held():
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
        os.close(handle)
        writer(record, Path(temporary))
        if destination.path is None:
            sys.stdout.flush()
            with open(temporary, "rb") as source:
                shutil.copyfileobj(source, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            _keep_mode(destination.path, temporary)
            os.replace(temporary, destination.path)
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (on the main thread; elsewhere Python runs no handlers)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _keep_mode(target: Path, temporary: str) -> None:
    """A rewritten file keeps its permissions; a new one gets the usual umask ones (mkstemp makes 0600)."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)


def _is_regular_or_missing(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return True


def _writable_file(path: Path) -> bool:
    """Whether the user may write this existing file.  Renaming over it would work whenever the
    folder is writable, but a read-only file says "do not overwrite me", so it is respected; its
    mode bits are read directly because root passes every ``os.access`` check."""
    if not os.access(path, os.W_OK):
        return False
    return bool(stat.S_IMODE(path.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
