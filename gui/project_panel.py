"""The catalogue of a served project: its URL patterns, fields for their arguments, any
path typed, and the method, chosen with a confirmation when it is not GET.

``CataloguePanel`` lists ``route_targets()`` instead of the demos while the lab serves a
project; the ``ProjectBar`` above the list turns the picked pattern (or the typed path) and
the method into the target the run controls run, and says which database runs will use.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from embedded_site.project import active
from embedded_site.project.routes import Route, walk
from engine.project_targets import METHODS, target_name

from .catalogue_panel import Target

# What a path() converter accepts, as Django's own converters define it.
CONVERTER_REGEX = {
    "int": r"[0-9]+",
    "str": r"[^/]+",
    "slug": r"[-a-zA-Z0-9_]+",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "path": r".+",
}
DATABASE_LINE: list[str] = []  # said before the first run (set at start-up, before the loop runs)


def group_name() -> str:
    project = active()
    return f"URLs of {project.name}" if project is not None else ""


def route_targets() -> dict[str, Target]:
    """One catalogue entry per URL pattern of the served project (by its pattern)."""
    project = active()
    if project is None:
        return {}
    return {"/" + r.pattern: Target("/" + r.pattern, route=r) for r in walk(project.root, with_code=True)}


def route_lesson(route: Route) -> str:
    kind = "async view" if route.is_async else "sync view"
    name = f" (name {route.name})" if route.name else ""
    args = ", ".join(f"{a.name} ({a.converter})" for a in route.args)
    needs = f"\n\nIt takes {args}: fill them in above." if args else ""
    return f"{kind} {route.view}{name}, at {route.source}.{needs}"


class ProjectBar(QWidget):
    """Method, URL and argument fields for the picked pattern; emits the target to run."""

    changed = Signal(object)  # Target

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        project = active()
        self.route: Route | None = None
        self.database = QLabel(DATABASE_LINE[0] if DATABASE_LINE else "", wordWrap=True)
        self.database.setStyleSheet("color:#5a4500;")
        self.method = QComboBox(toolTip="GET by default; another method may write to the project's database")
        self.method.addItems(METHODS)
        self.url = QLineEdit(placeholderText="/any/path/?q=typed", clearButtonEnabled=True)
        self.url.setToolTip("The URL each request asks for: pick a pattern below, or type any path")
        self.args_box = QWidget()
        self.args_form = QFormLayout(self.args_box)
        self.args_form.setContentsMargins(0, 0, 0, 0)
        self.arg_edits: dict[str, QLineEdit] = {}
        row = QHBoxLayout()
        row.addWidget(self.method)
        row.addWidget(self.url, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        title = QLabel(f"<b>{project.name}</b> ({project.settings_module})" if project else "")
        lay.addWidget(title)
        lay.addWidget(self.database)
        # SQLite: offer the copy (the lab restarts with --db-copy; Django is set up once).
        self.use_copy = QPushButton("Run against a copy of this database…")
        self.use_copy.setToolTip("Restart the lab serving a copy of the SQLite file, kept in the lab's data directory")
        self.use_copy.clicked.connect(self._restart_on_copy)
        self.use_copy.setVisible(
            project is not None and not project.db_copy and bool(DATABASE_LINE) and "sqlite3" in DATABASE_LINE[0]
        )
        lay.addWidget(self.use_copy)
        lay.addLayout(row)
        lay.addWidget(self.args_box)
        self.args_box.hide()
        self.method.currentTextChanged.connect(self._method_chosen)
        self.url.textEdited.connect(lambda _t: self._emit())

    def _restart_on_copy(self) -> None:
        from .project_mode import confirm_relaunch

        project = active()
        if project is None:
            return
        args = ["--project", str(project.root), "--settings", project.settings_module, "--db-copy"]
        confirm_relaunch(self.window(), args, f"{project.name} on a copy of its database")

    def show_route(self, route: Route) -> None:
        """Fill the URL from the pattern; a pattern with arguments gets a typed field for each."""
        self.route = route
        while self.args_form.rowCount():
            self.args_form.removeRow(0)
        self.arg_edits.clear()
        for arg in route.args:
            edit = QLineEdit(placeholderText=arg.converter)
            regex = CONVERTER_REGEX.get(arg.converter)
            if regex is not None:
                edit.setValidator(QRegularExpressionValidator(regex, edit))
            edit.setToolTip(f"{arg.name}: a {arg.converter} value")
            edit.textEdited.connect(lambda _t: self._fill())
            self.arg_edits[arg.name] = edit
            self.args_form.addRow(arg.name, edit)
        self.args_box.setVisible(bool(route.args))
        self.url.setText(route.path or "/" + route.pattern)
        self._emit()

    def _fill(self) -> None:
        if self.route is None:
            return
        values = {n: e.text() for n, e in self.arg_edits.items() if e.text()}
        if len(values) == len(self.arg_edits) and not _is_regex(self.route.pattern):
            self.url.setText(self.route.fill(values))
        elif not _is_regex(self.route.pattern):
            self.url.setText("/" + self.route.pattern)
        self._emit()

    def _method_chosen(self, method: str) -> None:
        if method != "GET" and not self.confirm_method(method):
            self.method.blockSignals(True)
            self.method.setCurrentText("GET")
            self.method.blockSignals(False)
        self._emit()

    def confirm_method(self, method: str) -> bool:
        """Ask before sending a method that may change the project's data."""
        where = DATABASE_LINE[0].removeprefix("database: ") if DATABASE_LINE else "the project's database"
        answer = QMessageBox.question(
            self,
            f"Send {method} requests?",
            f"{method} requests may write to the project's database ({where}). Every request of the "
            f"run is sent for real. Send {method}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def target(self) -> Target:
        url = self.url.text().strip() or "/"
        return Target(target_name(self.method.currentText(), url), route=self.route)

    def _emit(self) -> None:
        self.changed.emit(self.target())


def _is_regex(pattern: str) -> bool:
    return bool(re.search(r"\^|\$|\(\?P<", pattern))
