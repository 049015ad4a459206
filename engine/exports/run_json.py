"""The whole run as JSON: the run file's document uncompressed (``engine.runfile``), streamed.

It holds every field, request and span with its stats, and loads back as the same run
(File → Open run…, ``main.py show FILE``).  The request lists are encoded a chunk at a
time, so a 100,000-request record never exists as one dict or one string.
"""

from __future__ import annotations

from pathlib import Path

from ..record import RunRecord
from ..runfile import write_plain


def write_json(record: RunRecord, path: str | Path) -> Path:
    """The run file's document, uncompressed: readable as JSON, loadable as a run."""
    return write_plain(record, path)
