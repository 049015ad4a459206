"""Headless Chromium for tests that open a file the way a reader does: in a real browser.

``./run-tests`` installs it (scripts/setup.sh, test mode).  It runs with no network it could
use: every host name resolves to nothing and the proxy is a closed port, so a page that
needed the network would show it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
)


def chromium() -> str:
    """The browser's path; the test is skipped, saying why, when none is installed."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (./run-tests installs the Debian package chromium)")


def run_chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Chromium with the offline flags and a fresh, empty profile."""
    with tempfile.TemporaryDirectory(prefix="explorer-chromium-") as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def dump_dom(page: Path) -> str:
    """The page's DOM after its scripts ran (a time budget lets the load event fire)."""
    done = run_chromium("--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, out: Path, size: str = "1400,2400") -> Path:
    done = run_chromium(
        "--virtual-time-budget=5000", f"--screenshot={out}", f"--window-size={size}", page.resolve().as_uri()
    )
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]
    return out
