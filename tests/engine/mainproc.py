"""``main.py`` as a real subprocess, the way a user starts it, for tests that signal or kill it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for a ``main.py`` of its own: a private data dir, the offscreen platform."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EXPLORER_DATA_DIR": str(data),
        "QT_QPA_PLATFORM": "offscreen",
        **extra,
    }


def start_main(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``main.py ARGS`` with piped text stdout/stderr and no stdin."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
