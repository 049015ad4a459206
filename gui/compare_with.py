"""Compare what is selected with anything else, or with its own last run: the way into a
comparison for targets that have no twin, such as a playground snippet or a project's URL.

"Compare with…" runs the selected target at the toolbar's load, then the chosen one (a demo,
another snippet, saved or mounted, or another URL of the served project) at the same load
(``engine.presets.same_load``), and opens the comparison.  "Compare with its last run" runs
the selected target again at the load of its latest run in the history (so only what changed
since, its code, differs) and compares the two.  Both go through the Compare menu's series
runner, so each run is drawn live and kept in the history like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from embedded_site.project import active
from engine import snippets
from engine.config import ConfigError, RunConfig
from engine.history import HistoryError
from engine.plan import catalogue, make_config
from engine.presets import same_load

from . import compare_menu

if TYPE_CHECKING:
    from engine.record import RunRecord

    from .window import MainWindow


def other_targets(current: str) -> list[str]:
    """What the selected target can be compared with: the catalogue (mounted snippets included),
    the saved snippets, or the served project's URL patterns that run as they are."""
    if active() is not None:
        from embedded_site.project.routes import walk

        found = [r.path for r in walk(active().root) if r.path is not None]
    else:
        found = list(catalogue())
        found += [t for t in (f"playground:{n}" for n in snippets.names()) if t not in found]
    return [t for t in dict.fromkeys(found) if t != current]


class CompareWithDialog(QDialog):
    """Pick the other target (any id a run accepts can be typed); OK starts both runs."""

    def __init__(self, current: RunConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {current.target} with…")
        self.setObjectName("compare-with")
        stream = current.streams[0]
        amount = f"{stream.requests} requests" if stream.requests is not None else f"{stream.duration_s:g} s"
        pace = f", {stream.rate:g} req/s" if stream.rate is not None else ""
        self.other = QComboBox(editable=True)
        self.other.addItems(other_targets(current.target))
        self.other.setToolTip("a demo, playground:<name>, a URL of the served project, or any target id a run accepts")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run both and compare")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                f"Runs {current.target}, then the target chosen here, each with {stream.concurrency} users and "
                f"{amount}{pace} (parameters of the same name carry over), then opens the comparison.",
                wordWrap=True,
            )
        )
        lay.addWidget(self.other)
        lay.addWidget(self.buttons)
        self.resize(520, 150)

    def chosen(self) -> str:
        return self.other.currentText().strip()


def _single(window: MainWindow) -> RunConfig | None:
    """The toolbar's run, if it is one target at one load (a scenario sets its own)."""
    try:
        config = window.controls.config()
    except ConfigError as exc:
        window.show_error(str(exc))
        return None
    if len(config.streams) != 1:
        window.statusBar().showMessage(
            "A scenario sets its own load: compare it with Compare → runs from the history.", 8000
        )
        return None
    return config


def ask_compare_with(window: MainWindow) -> CompareWithDialog | None:
    """Ask what to compare the selected target with (window-modal, not a nested loop: the
    server shares this loop and keeps serving)."""
    config = _single(window)
    if config is None:
        return None
    dialog = CompareWithDialog(config, window)
    dialog.accepted.connect(lambda: compare_with(window, dialog.chosen()))
    dialog.finished.connect(lambda _r: setattr(window, "compare_with_dialog", None))
    window.compare_with_dialog = dialog
    dialog.open()
    return dialog


def compare_with(window: MainWindow, other: str) -> bool:
    """Run the toolbar's target, then ``other`` at the same load, and compare them; False
    (with the reason shown) if that cannot start."""
    config = _single(window)
    if config is None:
        return False
    if not other or other == config.target:
        window.show_error(f"pick another target than {config.target} to compare with")
        return False
    try:
        second = same_load(config, other)
    except ConfigError as exc:
        window.show_error(f"{other}: {exc}")
        return False
    return compare_menu.start_series(window, [config, second], ["", ""])


def last_run_of(window: MainWindow, target: str) -> RunRecord | None:
    """The latest run of ``target``: the history's newest (this session's record when it is one),
    else the newest of this session's runs the history could not store."""
    panel = window.history
    ids = [e.id for e in panel.model.entries if e.target == target]
    if ids:
        newest = max(ids)
        record = panel.records.get(newest)
        if record is None and panel.history is not None:
            try:
                record = panel.history.load(newest)
            except HistoryError as exc:
                window.statusBar().showMessage(f"Cannot compare: {exc}", 8000)
                return None
        return record
    return next((r for r in reversed(panel.unsaved) if r.config.target == target), None)


def compare_with_last(window: MainWindow) -> bool:
    """Run the selected target again at its last run's load and compare the two runs."""
    try:
        current = window.controls.config()
    except ConfigError as exc:
        window.show_error(str(exc))
        return False
    earlier = last_run_of(window, current.target)
    if earlier is None:
        window.statusBar().showMessage(f"{current.target} has no earlier run in the history to compare with.", 8000)
        return False
    try:
        if len(earlier.config.streams) == 1:
            config = same_load(earlier.config, current.target)
        else:
            config = make_config(current.target)  # a scenario: its own streams, as before
    except ConfigError as exc:
        window.show_error(f"{current.target}: {exc}")
        return False
    return compare_menu.start_series(window, [config], [""], earlier=(earlier,))


def install(window: MainWindow) -> None:
    """Compare → "Compare with…" (Ctrl+Shift+T) and "Compare with its last run" (Ctrl+Alt+T)."""
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Compare")
    first = menu.actions()[1] if len(menu.actions()) > 1 else None  # after "Compare with twin"
    window.compare_with_dialog = None
    window.compare_with_action = menu.addAction("Compare with…", lambda: ask_compare_with(window))
    window.compare_with_action.setShortcut(QKeySequence("Ctrl+Shift+T"))
    window.compare_with_action.setToolTip("Run the selected target and another at the same load, then compare them")
    window.compare_last_action = menu.addAction("Compare with its last run", lambda: compare_with_last(window))
    window.compare_last_action.setShortcut(QKeySequence("Ctrl+Alt+T"))
    window.compare_last_action.setToolTip("Run the selected target again at its last run's load and compare the two")
    if first is not None:
        for action in (window.compare_with_action, window.compare_last_action):
            menu.removeAction(action)
            menu.insertAction(first, action)
