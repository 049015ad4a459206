"""The window's ways into a comparison: the Compare menu (runs from the history, run files,
the presets) and the toolbar's "Compare with twin", which runs the demo and its twin with the same
settings and opens the comparison.

A series of runs goes through the window's ``RunController`` one run at a time, so each is
drawn live and is stored in the history like any other; a run on another loop than the window's
is a child ``main.py run --record`` process whose file is loaded (``engine.presets``).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine import deploy_presets
from engine.compare import MAX_RUNS, MIN_RUNS, CompareError
from engine.config import ConfigError, RunConfig
from engine.history import HistoryEntry, HistoryError
from engine.plan import predicted_loop_block_s
from engine.presets import Preset, child_run_args, preset_configs, presets, same_load, twin_of
from engine.record import RunRecord
from engine.runfile import RunFileError, load_run

from .compare_view import CompareWindow

CONFIRM_FREEZE_S = 10.0  # as the window: a series predicted to freeze longer is not started
CHILD_POLL_S = 0.1


def install(window: Any) -> None:
    """Add the Compare menu and the toolbar's twin button to ``window`` (a MainWindow)."""
    window.compare_windows = []  # held: a window without a reference is collected
    window.series_task = None
    window.series_child = None
    menu = window.menuBar().addMenu("&Compare")
    window.twin_action = QAction("⇄ Compare with twin", window, shortcut=QKeySequence("Ctrl+T"))
    window.twin_action.triggered.connect(lambda: compare_with_twin(window))
    menu.addAction(window.twin_action)
    menu.addAction("Compare runs from the history…", lambda: pick_history_runs(window))
    menu.addAction("Compare run files…", lambda: pick_run_files(window))
    menu.addSeparator()
    window.preset_actions = {}
    for preset in presets():
        action = menu.addAction(preset.title, lambda p=preset: run_preset(window, p))
        window.preset_actions[preset.id] = action
    deploy = menu.addMenu("Should I go async?")
    for preset in deploy_presets.DEPLOY_PRESETS.values():
        action = deploy.addAction(preset.title, lambda i=preset.id: run_deploy_preset(window, i))
        action.setToolTip(f"{preset.why} ({len(preset.runs)} runs, each on its server in a child process)")
        window.preset_actions[f"deploy:{preset.id}"] = action
    deploy.setToolTipsVisible(True)
    bar = window.findChild(QToolBar, "run-toolbar")
    if bar is not None:
        bar.insertAction(_after(bar, window.stop_action), window.twin_action)
    window.catalogue.selected.connect(lambda _t: _sync_twin(window))
    window.stop_action.triggered.connect(lambda: _stop_child(window))
    _sync_twin(window)


def _after(bar: QToolBar, action: QAction) -> QAction | None:
    actions = bar.actions()
    i = actions.index(action) if action in actions else -1
    return actions[i + 1] if 0 <= i < len(actions) - 1 else None


def _sync_twin(window: Any) -> None:
    target = window.catalogue.current
    twin = twin_of(target.id) if target is not None else None
    window.twin_action.setEnabled(twin is not None)
    window.twin_action.setToolTip(
        f"Run {target.id} and its twin {twin} with these settings, then compare them (Ctrl+T)"
        if twin and target is not None
        else "The selected demo has no twin to compare with"
    )


def open_comparison(window: Any, records: list[RunRecord]) -> CompareWindow | None:
    """Open the comparison of ``records`` in a window of its own; None (with the reason in the
    status bar) if they cannot be compared."""
    try:
        view = CompareWindow(records, parent=None)
    except CompareError as exc:
        window.statusBar().showMessage(f"Cannot compare: {exc}", 8000)
        return None
    screen = window.screen().availableGeometry()
    view.resize(min(1400, screen.width() - 40), min(900, screen.height() - 60))
    window.compare_windows.append(view)
    # Forgotten when closed: a comparison holds its runs whole.
    view.closed.connect(lambda: window.compare_windows.remove(view) if view in window.compare_windows else None)
    view.show()
    view.raise_()
    return view


def compare_with_twin(window: Any) -> bool:
    """Run the selected demo and its twin with the toolbar's settings, then compare; False
    (with the reason shown) if that cannot start."""
    try:
        config = window.controls.config()
    except ConfigError as exc:
        window.show_error(str(exc))
        return False
    twin = twin_of(config.target)
    if twin is None:
        window.statusBar().showMessage(f"{config.target} has no twin to compare with.", 6000)
        return False
    try:
        configs = [config, same_load(config, twin)]
    except ConfigError as exc:
        window.show_error(f"its twin {twin}: {exc}")
        return False
    return start_series(window, configs, [""] * len(configs))


def run_preset(window: Any, preset: Preset) -> bool:
    """Run a preset's demos (or loops) at one load and open their comparison."""
    try:
        current = window.controls.config()
    except ConfigError:
        current = None
    try:
        configs = preset_configs(preset, current)
    except ConfigError as exc:
        window.show_error(f"{preset.title}: {exc}")
        return False
    return start_series(window, configs, list(preset.loops) or [""] * len(configs))


def start_series(window: Any, configs: list[RunConfig], loops: list[str], earlier: tuple[RunRecord, ...] = ()) -> bool:
    """Start running ``configs`` one after another (each on its loop) and compare them at the
    end, after the ``earlier`` runs (e.g. the last run of the same target)."""
    if window.controller.busy:
        window.statusBar().showMessage("A run is already going; press Stop (Esc) first.", 5000)
        return False
    freeze = sum(predicted_loop_block_s(c) for c, loop in zip(configs, loops, strict=True) if _here(window, loop))
    if freeze > CONFIRM_FREEZE_S:
        window.show_error(
            f"these runs would freeze the window for about {freeze:.0f} s; lower the load or run them one at a time",
            from_settings=True,
        )
        return False
    window.error.hide()
    window.save_settings()
    window.controller.held = True
    window.series_task = asyncio.get_running_loop().create_task(
        _series(window, configs, loops, list(earlier)), name="compare-series"
    )
    return True


def _here(window: Any, loop: str) -> bool:
    return loop in ("", window.lab.loop_kind)


async def _series(
    window: Any, configs: list[RunConfig], loops: list[str], earlier: list[RunRecord]
) -> CompareWindow | None:
    records: list[RunRecord] = earlier
    try:
        for i, (config, loop) in enumerate(zip(configs, loops, strict=True)):
            window.statusBar().showMessage(f"Comparison: run {i + 1} of {len(configs)}, {config.target}", 4000)
            if _here(window, loop):
                window.controller.held = False  # the controller's own run: busy while it goes
                record = await window.controller.run(config, window.controls.loop_block_s(config))
                window.controller.held = True
            else:
                record = await _child_run(window, config, loop)
            if record is None:
                return None  # the run failed: its error is shown
            records.append(record)
            if record.stopped:
                window.statusBar().showMessage("Stopped: the comparison holds the runs done so far.", 6000)
                break
    finally:
        window.controller.held = False
        window.run_action.setEnabled(True)
        window.stop_action.setEnabled(False)
    if len(records) < MIN_RUNS:
        return None
    return open_comparison(window, records)


async def _child_run(window: Any, config: RunConfig, loop: str) -> RunRecord | None:
    """``config`` on ``loop`` in a child ``main.py run``; its recorded run (None on failure)."""
    with tempfile.TemporaryDirectory(prefix="explorer-compare-") as tmp:
        path = Path(tmp) / "run.json"
        what = f"{config.target} on the {loop} loop"
        return await _child_process_run(window, child_run_args(config, loop, path), path, what)


async def _child_process_run(window: Any, argv: list[str], path: Path, what: str) -> RunRecord | None:
    """Run ``argv`` (a ``main.py run … --record path``) as a child process and load its run
    file; None, with the child's last line shown, when it failed. Stop (Esc) ends the child as
    Ctrl-C would: it keeps and records what it measured."""
    window.run_action.setEnabled(False)
    window.stop_action.setEnabled(True)  # Esc stops the child; the selection's Esc waits
    window.clear_selection_action.setEnabled(False)
    window.progress.setText(f"  {what}, in a child process…")
    window.run_view.show_running(f"Running {what} in a child process…")
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    window.series_child = child
    try:
        while child.poll() is None:
            await asyncio.sleep(CHILD_POLL_S)
    finally:
        window.series_child = None
        if child.poll() is None:
            child.kill()
            child.wait()
    error = (child.stderr.read() if child.stderr else "").strip().splitlines()
    try:
        record = load_run(path)
    except RunFileError as exc:
        why = error[-1] if error else str(exc)
        window.show_error(f"{what} failed (exit {child.returncode}): {why}", from_settings=False)
        return None
    window.progress.setText(f"  {what}: {len(record.client)} requests")
    return record


def run_deploy_preset(window: Any, preset_id: str) -> bool:
    """Compare → Should I go async?: run each of the preset's runs on its own server, in a
    child ``main.py run … --server … --record FILE`` (``engine.deploy_presets.child_args``,
    the same command line as ``main.py compare --deploy``), then open their comparison (a
    preset of more runs than one comparison holds opens several, sharing its first run)."""
    preset = deploy_presets.DEPLOY_PRESETS[preset_id]  # read at the click: its load as it is now
    if window.controller.busy:
        window.statusBar().showMessage("A run is already going; press Stop (Esc) first.", 5000)
        return False
    window.error.hide()
    window.controller.held = True
    window.series_task = asyncio.get_running_loop().create_task(_deploy_series(window, preset), name="compare-deploy")
    return True


async def _deploy_series(window: Any, preset: deploy_presets.DeployPreset) -> list[CompareWindow]:
    records: list[RunRecord] = []
    opened: list[CompareWindow] = []
    try:
        with tempfile.TemporaryDirectory(prefix="explorer-deploy-") as tmp:
            for i, run in enumerate(preset.runs):
                window.statusBar().showMessage(f"{preset.title}: run {i + 1} of {len(preset.runs)}, {run.label}", 6000)
                path = Path(tmp) / f"{i + 1}.run.json"
                record = await _child_process_run(window, deploy_presets.child_args(preset, run, path), path, run.label)
                if record is None:
                    return opened  # the run failed: its error is shown
                records.append(record)
                if record.stopped:
                    window.statusBar().showMessage("Stopped: the comparison holds the runs done so far.", 6000)
                    break
    finally:
        window.controller.held = False
        window.run_action.setEnabled(True)
        window.stop_action.setEnabled(False)
    if len(records) < MIN_RUNS:
        if records and records[-1].stopped:
            window.statusBar().showMessage("Stopped during the first run: one run is not a comparison.", 8000)
        return opened
    for group in deploy_presets.groups(records, MAX_RUNS):
        view = open_comparison(window, group)
        if view is not None:
            opened.append(view)
    return opened


def _stop_child(window: Any) -> None:
    """Stop ends a child run the way Ctrl-C would: it keeps and records what it measured."""
    child = window.series_child
    if child is not None and child.poll() is None:
        child.send_signal(signal.SIGINT)


class _RunPicker(QDialog):
    """Tick 2–4 runs of the history (and of this session's runs it could not store)."""

    def __init__(self, entries: list[HistoryEntry], unsaved: list[RunRecord], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare runs from the history")
        self.unsaved = unsaved
        self.list = QListWidget()
        for e in entries:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.saved_at))
            what = f"{e.name or e.target} × {e.requests} · {e.loop}"
            text = f"#{e.id}  {when}  {what} · {e.wall_s:.2f} s · p99 {e.p99_ms:.0f} ms"
            self._add(text, ("id", e.id))
        for i, record in enumerate(unsaved):
            st = record.final_stats()
            self._add(
                f"(not stored)  {record.config.target} × {len(record.client)} · {st.wall_s:.2f} s", ("unsaved", i)
            )
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemChanged.connect(lambda _i: self._sync())
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Tick {MIN_RUNS} to {MAX_RUNS} runs; the first ticked (from the top) is the baseline."))
        lay.addWidget(self.list)
        lay.addWidget(self.buttons)
        self.resize(720, 420)
        self._sync()

    def _add(self, text: str, key: tuple[str, int]) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.list.addItem(item)

    def chosen(self) -> list[tuple[str, int]]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked]

    def _sync(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(MIN_RUNS <= len(self.chosen()) <= MAX_RUNS)


def pick_history_runs(window: Any) -> _RunPicker | None:
    """Ask which runs of the history to compare (a window-modal list, not a nested loop)."""
    panel = window.history
    entries = list(panel.model.entries)
    if len(entries) + len(panel.unsaved) < MIN_RUNS:
        window.statusBar().showMessage(f"Compare needs at least {MIN_RUNS} runs in the history.", 6000)
        return None
    picker = _RunPicker(entries, list(panel.unsaved), window)
    picker.setObjectName("compare-picker")
    picker.accepted.connect(lambda: _compare_chosen(window, picker))
    picker.open()  # not exec(): the server shares this loop and keeps serving
    return picker


def _compare_chosen(window: Any, picker: _RunPicker) -> CompareWindow | None:
    panel = window.history
    records = []
    for kind, key in picker.chosen():
        if kind == "unsaved":
            records.append(picker.unsaved[key])
            continue
        record = panel.records.get(key)
        if record is None:
            try:
                record = panel.history.load(key)
            except HistoryError as exc:
                window.statusBar().showMessage(f"Cannot compare: {exc}", 8000)
                return None
        records.append(record)
    return open_comparison(window, records)


def pick_run_files(window: Any) -> None:
    paths, _ = QFileDialog.getOpenFileNames(
        window, "Compare run files", "", "Runs (*.run.json.gz *.json);;All files (*)"
    )
    if not paths:
        return
    records = []
    for path in paths:
        try:
            records.append(load_run(path))
        except RunFileError as exc:
            window.statusBar().showMessage(f"Cannot open {Path(path).name}: {exc}", 8000)
            return
    open_comparison(window, records)
