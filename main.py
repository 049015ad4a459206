"""Django Async Explorer.

``python main.py`` opens the window; ``python main.py list|serve|run …`` works in a
terminal without one (see ``python main.py --help``).
"""

from __future__ import annotations

import os
import sys

MIN_PYTHON = (3, 12)


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        print(
            f"Django Async Explorer needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer "
            f"(this is {sys.version.split()[0]}); see the README's set-up command.",
            file=sys.stderr,
        )
        return 2
    from gui.project_mode import is_window_args

    if not argv or is_window_args(argv):  # the window, perhaps with --project PATH
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
        ):
            print(
                "No display to open the window on. Run it under a desktop session or `xvfb-run`, "
                "or use the terminal commands: python main.py --help",
                file=sys.stderr,
            )
            return 2
        from gui.app import main as gui_main

        return _one_line_on_setup_error(gui_main, argv)
    from engine.cli import main as cli_main

    return _one_line_on_setup_error(cli_main, argv)


def _one_line_on_setup_error(front_end, *args) -> int:
    """Run a front end; a data dir or file the site cannot use is one line and exit 2."""
    from embedded_site.datadir import SiteSetupError

    try:
        return front_end(*args)
    except SiteSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
