"""Regenerate the screenshots in docs/ from the real window: ``xvfb-run python -m gui.screenshots docs``.

Drives the same start-up as ``gui.app.main`` and runs real demos, so the pictures show
what a user sees (and make layout problems visible in review).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from . import window as window_module


async def _wait_run(w: window_module.MainWindow) -> None:
    while w.run_task is None or not w.run_task.done():
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


def _configure(
    w: window_module.MainWindow, target: str, requests: int = 0, concurrency: int = 0, **params: float
) -> None:
    w.catalogue.filter.clear()
    w.catalogue.select(target)
    if requests:
        w.controls.amount_kind.setCurrentText("requests")
        w.controls.open_loop.setChecked(False)
        w.controls.requests.setValue(requests)
        w.controls.concurrency.setValue(concurrency)
    for name, value in params.items():
        w.controls.param_editors[name].setValue(value)


async def _select_longest(w: window_module.MainWindow) -> None:
    """Select the run's slowest request, as a click on its bar would."""
    bar = max(w.model.bars, key=lambda b: b.end_ns - b.start_ns)
    w.select_request((bar.client_id, None))
    await asyncio.sleep(0.3)


def _save(w: window_module.MainWindow, out: Path, name: str) -> None:
    QApplication.processEvents()
    screen = w.screen()
    shot = screen.grabWindow(w.winId()) if screen is not None else w.grab()
    if shot.isNull() or shot.width() < 100:
        shot = w.grab()
    shot.save(str(out / name))
    print("wrote", out / name, shot.width(), "x", shot.height(), flush=True)


async def shoot(w: window_module.MainWindow, out: Path, extra: bool = False) -> None:
    await asyncio.sleep(0.5)
    _configure(w, "article-async-all", 20, 10)
    await asyncio.sleep(0.3)
    _save(w, out, "catalogue.png")
    if extra:
        _configure(w, "article-async-all", 20, 10)
        w.start_run()
        await _wait_run(w)
        _save(w, out, "failed-requests.png")
        await _select_longest(w)
        _save(w, out, "details-exception.png")
        w.clear_selection()
    _configure(w, "orm-n-plus-one", 20, 5, rows=8)
    w.view_tabs.setCurrentIndex(0)
    w.start_run()
    await _wait_run(w)
    await _select_longest(w)
    _save(w, out, "details-pane.png")
    if extra:
        w.view_tabs.setCurrentIndex(1)
        await asyncio.sleep(0.3)
        _save(w, out, "details-threads.png")
        w.view_tabs.setCurrentIndex(0)
    w.clear_selection()
    _configure(w, "async-sleep", 50, 50, delay=0.5)
    w.view_tabs.setCurrentIndex(0)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "async-sleep.png")
    _configure(w, "sync-sleep", 20, 20, delay=0.5)
    w.start_run()
    await _wait_run(w)
    w.view_tabs.setCurrentIndex(1)
    await asyncio.sleep(0.3)
    _save(w, out, "threads-sync-sleep.png")
    w.view_tabs.setCurrentIndex(0)
    _configure(w, "one-blocking-call")
    await asyncio.sleep(0.3)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "blocking-scenario.png")
    w.close()


async def shoot_postgres(w: window_module.MainWindow, out: Path) -> None:
    """The PostgreSQL connection strip under a run of 20 requests that each hold a connection."""
    await asyncio.sleep(0.5)
    _configure(w, "pg-connection-per-thread", 20, 20, hold=0.5)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "postgres-connections.png")
    w.close()


def main(argv: list[str]) -> int:
    extra = "--extra" in argv  # also shots that are not in docs/ (for reviewing the look)
    postgres = "--postgres" in argv  # only the PostgreSQL shot, on the lab's own cluster
    argv = [a for a in argv if a not in ("--extra", "--postgres")]
    if postgres:
        from engine.commands.database import start_private_cluster, use_database

        use_database(start_private_cluster())
    out = Path(argv[0] if argv else "docs").resolve()
    out.mkdir(parents=True, exist_ok=True)
    shown = window_module.MainWindow.show

    def show(self: window_module.MainWindow) -> None:
        shown(self)
        self.fit_to_screen()  # as a first launch: 1400x900 on a 1600x1000 screen, less on a smaller one
        shots = shoot_postgres(self, out) if postgres else shoot(self, out, extra)
        self.screenshot_task = asyncio.get_event_loop().create_task(shots)  # held: tasks are weak

    window_module.MainWindow.show = show  # type: ignore[method-assign]
    from .app import main as app_main

    return app_main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
