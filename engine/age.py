"""An age such as ``30d`` or ``12h``: how old a stored run must be to be deleted.

One parser for the command line (``history --delete-older-than 30d``) and the history panel's
custom choice, so both accept the same words and refuse the same mistakes with the same line.
"""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_NAMES = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)


class AgeError(ValueError):
    """Not an age; the message is one line for the user."""


def parse_age(text: str) -> float:
    """``"30d"`` → 2,592,000.0 seconds.  A positive number and one unit: s, m, h, d or w."""
    match = _AGE.fullmatch(text or "")
    if match is None:
        raise AgeError(f"an age is a number and a unit (s, m, h, d or w), such as 30d or 12h; got {text!r}")
    seconds = float(match.group(1)) * UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise AgeError(f"an age must be more than 0; got {text!r}")
    return seconds


def describe_age(seconds: float) -> str:
    """``2,592,000`` → ``"30 days"``: the count of the largest unit it is a whole number of."""
    for unit in ("w", "d", "h", "m", "s"):
        n, rest = divmod(seconds, UNITS[unit])
        if n >= 1 and rest == 0:
            return f"{n:.0f} {_NAMES[unit]}{'' if n == 1 else 's'}"
    return f"{seconds:g} seconds"
