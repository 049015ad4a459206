"""Regenerate the screenshots in docs/ from the real window: ``xvfb-run python -m gui.screenshots docs``.

Drives the same start-up as ``gui.app.main`` and runs real demos, so the pictures show
what a user sees (and make layout problems visible in review).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from . import compare_menu
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


def _save(w: QWidget, out: Path, name: str) -> None:
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
    # The new groups: startproject's middleware stack, its hops in the spans of one request.
    _configure(w, "middleware-startproject", 20, 10)
    w.view_tabs.setCurrentIndex(0)
    w.start_run()
    await _wait_run(w)
    await _select_longest(w)
    _save(w, out, "middleware-stack.png")
    w.clear_selection()
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
    w.view_tabs.setCurrentIndex(2)
    await asyncio.sleep(0.3)
    _save(w, out, "charts-tab.png")
    w.view_tabs.setCurrentIndex(0)
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
    if extra:  # the event-loop lane, measured: the blocking request's time, the rest idle
        w.view_tabs.setCurrentIndex(1)
        await asyncio.sleep(0.3)
        _save(w, out, "loop-lane.png")
        w.view_tabs.setCurrentIndex(0)
    await _past_run(w, out)
    if extra:
        await _prune_dialog(w, out)
    await _shoot_comparison(w, out)
    await _playground_shots(w, out, extra)
    w.close()


async def _past_run(w: window_module.MainWindow, out: Path) -> None:
    """The async-sleep run saved to a file and opened again: a past run, marked as one."""
    import tempfile

    from . import runfile_menu

    while w.history.pending:
        await asyncio.sleep(0.05)
    async_sleep = next(r for r in w.history.records.values() if r.config.target == "async-sleep")
    path = Path(tempfile.mkdtemp(prefix="explorer-shots-")) / "async-sleep.run.json.gz"
    from engine.runfile import save_run

    save_run(async_sleep, path)
    runfile_menu.open_path(w, path)
    await asyncio.sleep(0.3)
    _save(w, out, "past-run.png")


async def _prune_dialog(w: window_module.MainWindow, out: Path) -> None:
    """The history's "Delete older than…" dialog over the window, as its button opens it."""
    w.history.prune_button.click()
    await asyncio.sleep(0.3)
    dialog = w.history.prune_box
    if dialog is None:
        return
    _save(w, out, "history-panel.png")
    dialog.grab().save(str(out / "history-prune.png"))
    print("wrote", out / "history-prune.png", flush=True)
    dialog.reject()


async def _shoot_comparison(w: window_module.MainWindow, out: Path) -> None:
    """The toolbar's "Compare with twin" on fanout-sequential, as a click would start it."""
    _configure(w, "fanout-sequential", 20, 10)
    compare_menu.compare_with_twin(w)
    while w.series_task is None or not w.series_task.done():
        await asyncio.sleep(0.05)
    view = w.series_task.result()
    if view is None:
        return
    view.resize(w.size())
    await asyncio.sleep(0.5)
    _save(view, out, "compare.png")
    view.tabs.setCurrentIndex(1)
    await asyncio.sleep(0.3)
    _save(view, out, "compare-charts.png")
    from engine.compare_card import write_comparison_png

    write_comparison_png([r.record for r in view.comparison.runs], out / "compare-card.png")  # its report card
    print("wrote", out / "compare-card.png", flush=True)
    view.close()


async def _playground_shots(w: window_module.MainWindow, out: Path, extra: bool) -> None:
    """The playground: a demo copied in, changed, mounted and run; with ``extra``, a snippet that
    fails to mount and the scenario editor too."""
    w.catalogue.filter.clear()
    w.catalogue.select("blocking-sleep")
    w.catalogue.to_playground.click()
    pane = w.playground
    pane.name.setText("my-blocker")
    pane.editor.setPlainText(pane.editor.toPlainText().replace("time.sleep(delay)", "time.sleep(delay / 2)"))
    pane.mount_button.click()
    found = pane.editor.document().find("time.sleep(delay / 2)")
    pane.editor.setTextCursor(found)  # the changed line in view
    pane.editor.centerCursor()
    _configure(w, "playground:my-blocker", 20, 20, delay=0.4)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "playground.png")
    await _shoot_snippet_comparison(w, out)
    if not extra:
        w.playground_dock.hide()
        return
    pane.editor.setPlainText(pane.editor.toPlainText().replace("import time", "import time\nimport no_such_module"))
    pane.mount_button.click()
    await asyncio.sleep(0.3)
    _save(w, out, "playground-error.png")
    w.playground_dock.hide()
    from .scenario_editor import open_editor

    _configure(w, "one-blocking-call")
    editor = open_editor(w)
    await asyncio.sleep(0.3)
    QApplication.processEvents()
    editor.grab().save(str(out / "scenario-editor.png"))
    print("wrote", out / "scenario-editor.png", flush=True)
    editor.close()


async def _shoot_snippet_comparison(w: window_module.MainWindow, out: Path) -> None:
    """The playground's "Compare with…": the changed snippet against async-sleep at its load."""
    from . import compare_with

    compare_with.compare_with(w, "async-sleep")
    while w.series_task is None or not w.series_task.done():
        await asyncio.sleep(0.05)
    view = w.series_task.result()
    if view is None:
        return
    view.resize(w.size())
    await asyncio.sleep(0.5)
    _save(view, out, "playground-compare.png")
    view.close()


async def shoot_postgres(w: window_module.MainWindow, out: Path) -> None:
    """The PostgreSQL connection strip under a run of 20 requests that each hold a connection."""
    await asyncio.sleep(0.5)
    _configure(w, "pg-connection-per-thread", 20, 20, hold=0.5)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "postgres-connections.png")
    w.close()


async def shoot_servers(w: window_module.MainWindow, out: Path) -> None:
    """The Server menu open, a run served by a child uvicorn, and the I/O-bound deploy preset's
    comparison (gunicorn gthread vs uvicorn, in child processes)."""
    from PySide6.QtCore import QPoint

    from . import server_menu

    await asyncio.sleep(0.5)
    bar = w.menuBar()
    menu_action = next(a for a in bar.actions() if a.text() == "&Server")
    w.server_menu.popup(bar.mapToGlobal(bar.actionGeometry(menu_action).bottomLeft()))
    await asyncio.sleep(0.4)
    QApplication.processEvents()
    screen = w.screen()
    top_left = w.mapToGlobal(QPoint(0, 0))
    shot = screen.grabWindow(0, top_left.x(), top_left.y(), w.width(), min(w.height(), 420))
    shot.save(str(out / "server-menu.png"))
    print("wrote", out / "server-menu.png", flush=True)
    w.server_menu.hide()
    task = server_menu.choose(w, "uvicorn")
    if task is None or not await task:
        print("uvicorn did not start", flush=True)
        w.close()
        return
    _configure(w, "sync-sleep", 40, 20, delay=0.3)
    w.start_run()
    await _wait_run(w)
    _save(w, out, "server-run.png")
    compare_menu.run_deploy_preset(w, "io-bound")
    while w.series_task is None or not w.series_task.done():
        await asyncio.sleep(0.05)
    for i, view in enumerate(w.series_task.result()):
        view.resize(w.size())
        await asyncio.sleep(0.5)
        _save(view, out, f"compare-deploy{'-' + str(i + 1) if i else ''}.png")
        view.close()
    task = server_menu.choose(w, "embedded")
    if task is not None:
        await task
    w.close()


def main(argv: list[str]) -> int:
    extra = "--extra" in argv  # also shots that are not in docs/ (for reviewing the look)
    postgres = "--postgres" in argv  # only the PostgreSQL shot, on the lab's own cluster
    servers = "--servers" in argv  # only the Server menu and deploy comparison shots
    argv = [a for a in argv if a not in ("--extra", "--postgres", "--servers")]
    if postgres:
        from engine.commands.database import start_private_cluster, use_database

        use_database(start_private_cluster())
    out = Path(argv[0] if argv else "docs").resolve()
    out.mkdir(parents=True, exist_ok=True)
    shown = window_module.MainWindow.show

    def show(self: window_module.MainWindow) -> None:
        shown(self)
        self.fit_to_screen()  # as a first launch: 1400x900 on a 1600x1000 screen, less on a smaller one
        if servers:
            shots = shoot_servers(self, out)
        else:
            shots = shoot_postgres(self, out) if postgres else shoot(self, out, extra)
        self.screenshot_task = asyncio.get_event_loop().create_task(shots)  # held: tasks are weak

    window_module.MainWindow.show = show  # type: ignore[method-assign]
    from .app import main as app_main

    return app_main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
