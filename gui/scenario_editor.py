"""Compose a scenario of your own: several streams, each a target with its parameters and pace.

A stream's target is any id a run accepts (a demo, ``playground:<name>``, or whatever
target id the plan knows), so the editor needs no change when new kinds of target come.
The dialog only collects fields: ``engine.plan.scenario_config`` judges them, so a bad
stream is refused with the same sentence ``main.py run FILE.toml`` prints.  Saved
scenarios are TOML files in the data directory, listed in the catalogue under "My
scenarios"; Export and Import write and read the same files anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from engine import scenario_file, snippets
from engine.config import MAX_CONCURRENCY, MAX_DURATION_S, MAX_RATE, MAX_REQUESTS, ConfigError, Stream
from engine.plan import catalogue, scenario_config
from engine.scenarios import SCENARIOS, Scenario

from .confirm_delete import ask_to_delete
from .theme import ERROR_STYLE

if TYPE_CHECKING:
    from .window import MainWindow

COLUMNS = ("Target", "Parameters", "Concurrency", "Requests", "Duration", "Rate", "Start")
TOML_FILTER = "Scenario (*.toml)"


def parse_params(text: str, where: str) -> dict[str, Any]:
    """``delay=0.5, rows=3`` as a dict of numbers (a value that is no number stays text, for the
    target's own check to refuse with its sentence)."""
    params: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{where}: parameters are NAME=VALUE separated by commas, got {part!r}")
        value = value.strip()
        for kind in (int, float):
            try:
                params[key.strip()] = kind(value)
                break
            except ValueError:
                continue
        else:
            params[key.strip()] = value
    return params


class StreamRow:
    """The widgets of one stream's row."""

    def __init__(self, targets: list[str]) -> None:
        self.target = QComboBox(editable=True, toolTip="a demo id, playground:<name>, or any target id a run accepts")
        self.target.addItems(targets)
        self.params = QLineEdit(placeholderText="defaults", toolTip="NAME=VALUE, separated by commas")
        self.concurrency = QSpinBox(minimum=1, maximum=MAX_CONCURRENCY, value=10)
        self.requests = QSpinBox(minimum=0, maximum=MAX_REQUESTS, value=10, specialValueText="timed")
        self.requests.setToolTip("how many requests (0: send for the duration instead)")
        self.duration = QDoubleSpinBox(minimum=0.0, maximum=MAX_DURATION_S, value=0.0, decimals=1, suffix=" s")
        self.duration.setSpecialValueText("—")
        self.duration.setToolTip("how long to send, when requests is 0 ('timed')")
        self.rate = QDoubleSpinBox(minimum=0.0, maximum=MAX_RATE, value=0.0, decimals=1, suffix=" req/s")
        self.rate.setSpecialValueText("closed loop")
        self.rate.setToolTip("an open loop's arrival rate (closed loop: each user sends when answered)")
        self.start = QDoubleSpinBox(minimum=0.0, maximum=MAX_DURATION_S, value=0.0, decimals=2, suffix=" s")
        self.start.setToolTip("seconds after the run starts")

    @property
    def widgets(self) -> tuple[QWidget, ...]:
        return (self.target, self.params, self.concurrency, self.requests, self.duration, self.rate, self.start)

    def stream(self, n: int) -> Stream:
        where = f"stream {n}"
        target = self.target.currentText().strip()
        if not target:
            raise ConfigError(f"{where}: pick a target")
        timed = self.requests.value() == 0
        return Stream(
            target,
            parse_params(self.params.text(), where),
            concurrency=self.concurrency.value(),
            requests=None if timed else self.requests.value(),
            duration_s=self.duration.value() if timed else None,
            rate=self.rate.value() or None,
            start_s=self.start.value(),
        )

    def show_stream(self, stream: Stream) -> None:
        self.target.setCurrentText(stream.demo)
        self.params.setText(", ".join(f"{k}={v}" for k, v in stream.params.items()))
        self.concurrency.setValue(stream.concurrency)
        self.requests.setValue(stream.requests or 0)
        self.duration.setValue(stream.duration_s or 0.0)
        self.rate.setValue(stream.rate or 0.0)
        self.start.setValue(stream.start_s)


class ScenarioEditor(QDialog):
    """Name, title, lesson and a table of streams; Run, Save, Export, Import.  Not modal: the
    server shares the window's loop and keeps serving while the dialog is open."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Compose a scenario")
        self.setObjectName("scenario-editor")
        self.name = QLineEdit("my-scenario", toolTip="its id: lower-case letters, digits and dashes")
        self.title = QLineEdit("")
        self.title.setPlaceholderText("what it shows, in one line")
        self.lesson = QLineEdit("")
        self.lesson.setPlaceholderText("what you expect to see (optional)")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.rows: list[StreamRow] = []
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.add_button = QPushButton("Add stream")
        self.remove_button = QPushButton("Remove stream")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("keep it (listed under My scenarios in the catalogue)")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("remove the saved scenario of this name from the data directory (it asks first)")
        self.delete_box: QMessageBox | None = None
        self.run_button = QPushButton("▶ Run")
        self.run_button.setDefault(True)
        close = QPushButton("Close")

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Title", self.title)
        form.addRow("Lesson", self.lesson)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.import_button, self.export_button, self.delete_button, self.save_button, self.run_button, close):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        self.resize(980, 380)

        self.add_button.clicked.connect(lambda: self.add_stream())
        self.remove_button.clicked.connect(self.remove_stream)
        self.import_button.clicked.connect(self._ask_import)
        self.export_button.clicked.connect(self._ask_export)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.ask_delete)
        self.name.textChanged.connect(lambda _t: self._sync_delete())
        self._sync_delete()
        self.run_button.clicked.connect(self.run)
        close.clicked.connect(self.close)

    def _targets(self) -> list[str]:
        """Every target a stream can name now: the catalogue (mounted snippets included) and the
        saved snippets, which a run mounts from their files."""
        found = list(catalogue())
        return found + [t for t in (f"playground:{name}" for name in snippets.names()) if t not in found]

    def add_stream(self, stream: Stream | None = None) -> StreamRow:
        row = StreamRow(self._targets())
        if stream is not None:
            row.show_stream(stream)
        index = self.table.rowCount()
        self.table.insertRow(index)
        for column, widget in enumerate(row.widgets):
            self.table.setCellWidget(index, column, widget)
        self.rows.append(row)
        return row

    def remove_stream(self) -> None:
        index = self.table.currentRow() if self.table.currentRow() >= 0 else self.table.rowCount() - 1
        if index >= 0:
            self.table.removeRow(index)
            del self.rows[index]

    def set_scenario(self, scenario: Scenario) -> None:
        self.name.setText(scenario.id if scenario_file.NAME.match(scenario.id) else "my-scenario")
        self.title.setText(scenario.title)
        self.lesson.setText(scenario.lesson)
        self.table.setRowCount(0)
        self.rows.clear()
        for stream in scenario.streams:
            self.add_stream(stream)
        self.error.hide()

    def scenario(self) -> Scenario:
        """The scenario the fields describe, checked as a run would check it (ConfigError if not)."""
        if not self.rows:
            raise ConfigError("add at least one stream")
        name = self.name.text().strip()
        if not scenario_file.NAME.match(name):
            raise ConfigError(f"a scenario name is 1–40 lower-case letters, digits and dashes, got {name!r}")
        streams = tuple(row.stream(n) for n, row in enumerate(self.rows, 1))
        scenario = Scenario(name, self.title.text().strip() or name, self.lesson.text().strip(), streams)
        scenario_config(scenario)
        return scenario

    def _checked(self) -> Scenario | None:
        try:
            scenario = self.scenario()
        except ConfigError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return None
        self.error.hide()
        return scenario

    def save(self) -> Path | None:
        scenario = self._checked()
        if scenario is None:
            return None
        try:
            scenario_file.check_name(scenario.id, catalogue())
            path = scenario_file.save(scenario)
        except (ConfigError, OSError) as exc:
            self.error.setText(str(exc) if isinstance(exc, ConfigError) else f"not saved: {exc}")
            self.error.show()
            return None
        self._show_in_catalogue(scenario)
        self._sync_delete()
        self.window_.statusBar().showMessage(f"Saved {scenario.id} as {path}", 6000)
        return path

    def _sync_delete(self) -> None:
        self.delete_button.setEnabled(self.name.text().strip() in scenario_file.saved_files())

    def ask_delete(self) -> None:
        """Ask (window-modal, not a nested loop: the server keeps serving), then delete the saved
        scenario named in Name."""
        name = self.name.text().strip()
        path = scenario_file.saved_files().get(name)
        if path is None:
            self.error.setText(f"no saved scenario is named {name!r}")
            self.error.show()
            return
        ask_to_delete(
            self,
            "Delete this scenario?",
            f"Delete the saved scenario {name} ({path})? Its file is removed and it leaves the catalogue; "
            "runs of it in the history stay. The streams stay in this editor until you close it.",
            "scenario-delete",
            lambda: self.delete(name),
        )

    def delete(self, name: str) -> bool:
        """Remove the saved scenario ``name`` (its file and its catalogue entry)."""
        try:
            removed = scenario_file.delete(name)
        except OSError as exc:
            self.error.setText(f"{name} could not be deleted: {exc.strerror or exc}")
            self.error.show()
            return False
        self._sync_delete()
        if removed:
            self.window_.catalogue.refresh()
            self.window_.statusBar().showMessage(f"Deleted the saved scenario {name}", 6000)
        return removed

    def run(self) -> bool:
        """Run the scenario as composed (saved or not); False with the reason shown if it cannot."""
        scenario = self._checked()
        if scenario is None:
            return False
        if scenario.id in SCENARIOS and scenario.id not in scenario_file.composed():
            self.error.setText(f"{scenario.id!r} is a built-in scenario's id; pick another name")
            self.error.show()
            return False
        scenario_file.register(scenario)
        self._show_in_catalogue(scenario)
        return self.window_.start_run()

    def _show_in_catalogue(self, scenario: Scenario) -> None:
        catalogue_panel = self.window_.catalogue
        catalogue_panel.refresh()
        catalogue_panel.filter.clear()
        catalogue_panel.select(scenario.id)

    def export_to(self, path: Path) -> bool:
        scenario = self._checked()
        if scenario is None:
            return False
        try:
            scenario_file.write(scenario, path)
        except OSError as exc:
            self.error.setText(f"{path} could not be written: {exc.strerror or exc}")
            self.error.show()
            return False
        self.window_.statusBar().showMessage(f"Wrote {path}", 6000)
        return True

    def import_from(self, path: Path) -> bool:
        try:
            scenario = scenario_file.read_file(path)
        except ConfigError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.set_scenario(scenario)
        return True

    def _ask_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export scenario", f"{self.name.text()}.toml", TOML_FILTER)
        if name:
            self.export_to(Path(name).with_suffix(".toml"))

    def _ask_import(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import scenario", "", TOML_FILTER)
        if name:
            self.import_from(Path(name))


def open_editor(window: MainWindow) -> ScenarioEditor:
    """Open the editor with the selected scenario's streams, or one stream of the selected demo
    with the toolbar's settings."""
    editor = getattr(window, "scenario_editor", None)
    if editor is None:
        editor = window.scenario_editor = ScenarioEditor(window)
    target = window.catalogue.current
    if target is not None and target.scenario is not None:
        editor.set_scenario(target.scenario)
        if target.id in SCENARIOS:
            editor.name.setText(f"my-{target.id}"[:40])
    elif not editor.rows:
        try:
            config = window.controls.config()
        except ConfigError:
            config = None
        if config is not None and len(config.streams) == 1:
            editor.add_stream(config.streams[0])
        else:
            editor.add_stream()
    editor.show()
    editor.raise_()
    return editor


def install(window: MainWindow) -> None:
    """File → Compose scenario… (Ctrl+Shift+N), before Quit."""
    menu = window.file_menu
    action = menu.addAction("Compose scenario…")
    action.setShortcut(QKeySequence("Ctrl+Shift+N"))
    action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    action.triggered.connect(lambda: open_editor(window))
    quit_action = next((a for a in menu.actions() if a.text() == "Quit"), None)
    if quit_action is not None:
        menu.removeAction(action)
        menu.insertAction(quit_action, action)
        menu.insertSeparator(quit_action)
    window.compose_action = action
