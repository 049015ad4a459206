"""The export formats, one module each, in one table that the CLI and the File menu both read.

Each ``Export`` names its writer as ``module:function``; a writer takes ``(record, path)``
and returns the path.  Writers are looked up when called, so the modules load only when a
format is used (and a benchmark can wrap a writer in place).  Adding a format is one module
and one entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..record import RunRecord


@dataclass(frozen=True)
class Export:
    id: str  # the CLI flag without dashes: --trace, --csv, --record
    menu_text: str  # File menu entry
    file_filter: str  # save dialog filter
    suffix: str  # default file name ends with this
    writer: str  # "module:function" under engine.exports
    help: str  # the CLI flag's help

    @property
    def flag(self) -> str:
        return f"--{self.id}"

    def write(self, record: RunRecord, path: str | Path) -> Path:
        """Write ``record`` to ``path`` with this format's writer."""
        return self.function()(record, path)

    def function(self) -> Callable[[RunRecord, str | Path], Path]:
        module, _, name = self.writer.partition(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)


EXPORTS: dict[str, Export] = {
    e.id: e
    for e in (
        Export(
            "trace",
            "Export trace JSON (Perfetto)…",
            "Trace JSON (*.json)",
            "-trace.json",
            "chrome_trace:write_chrome_trace",
            "write a Chrome/Perfetto trace (JSON)",
        ),
        Export(
            "csv",
            "Export requests CSV…",
            "CSV (*.csv)",
            ".csv",
            "requests_csv:write_csv",
            "write one CSV row per request",
        ),
        Export(
            "record",
            "Export run JSON…",
            "JSON (*.json)",
            "-run.json",
            "run_json:write_json",
            "write the whole run as JSON (loads back: show FILE, File → Open run…)",
        ),
        Export(
            "html",
            "Export HTML report…",
            "HTML (*.html)",
            "-report.html",
            "html_report:write_html",
            "write a self-contained HTML report (card, findings, charts, requests)",
        ),
        Export(
            "png",
            "Export report card PNG…",
            "PNG (*.png)",
            "-card.png",
            "card_png:write_png",
            "write the report card (title, settings, verdict, stats, timeline) as a 1600x900 PNG",
        ),
        Export(
            "svg",
            "Export report card SVG…",
            "SVG (*.svg)",
            "-card.svg",
            "card_svg:write_svg",
            "write the report card as SVG",
        ),
        Export(
            "locust",
            "Export Locust file…",
            "Python (*.py)",
            "-locustfile.py",
            "locustfile:write_locustfile",
            "write a locustfile replaying the run's demos, users, counts and rates against any deployment",
        ),
    )
}


def by_flag(flag: str) -> Export:
    """The export a CLI flag (``--trace``) names."""
    return EXPORTS[flag.removeprefix("--")]
