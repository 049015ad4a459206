"""What a user may type to name a past run: a history id (``12``, ``#12``) or a file's path.

The terminal commands that take a run (``show``, ``export``, ``compare``) and the window's
Open share this one reading, so a bad reference gets the same one-line message everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

from .record import RunRecord
from .runfile import RunFileError, load_run

_ID = re.compile(r"#?(\d{1,18})")


def history_id(text: str) -> int | None:
    """The history id ``text`` names (``12`` or ``#12``), or None when it names no id.
    A file that happens to be called ``12`` in the current folder is a file, not an id."""
    match = _ID.fullmatch(text.strip())
    if match is None or Path(text).exists():
        return None
    return int(match.group(1))


def load_ref(text: str) -> RunRecord:
    """The run ``text`` names: a history run by id, else a run file, ``--record`` export or
    a Chrome trace this app exported.  Raises ``RunFileError`` (one line) otherwise."""
    if not text.strip():
        raise RunFileError("no run given: name a history id (see `history`) or a run file")
    run_id = history_id(text)
    if run_id is not None:
        from .history import History, HistoryError

        try:
            with History.open() as history:
                return history.load(run_id)
        except HistoryError as exc:
            raise RunFileError(str(exc)) from None
    path = Path(text).expanduser()
    if not path.exists():
        raise RunFileError(f"no run {text!r}: not a history id and no such file")
    return load_run(path)
