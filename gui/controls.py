"""The run controls: how many, how fast, the demo's own parameters, Run and Stop.

Limits are deliberately *not* enforced by the spin boxes: the engine's ``make_config`` is
the single judge, so the window refuses a bad setting with exactly the sentence the CLI
uses.  A spin box that clamped would silently run something else than was typed (2000
rows becoming 200), so a demo parameter's field takes any number, and one outside the
``Param`` bounds the catalogue declares is marked red, with the allowed range, where it
was typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from embedded_site.demos.catalogue import Param, ParamError
from engine.config import RunConfig
from engine.plan import make_config

from .catalogue_panel import Target

REQUESTS, DURATION = "requests", "seconds"


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    s = QSpinBox(minimum=lo, maximum=hi, value=value, toolTip=tip)
    s.setAccelerated(True)
    return s


def _dspin(lo: float, hi: float, value: float, decimals: int, tip: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox(minimum=lo, maximum=hi, value=value, decimals=decimals, toolTip=tip)
    s.setAccelerated(True)
    return s


FIELD_LIMIT = 999_999_999  # what a parameter field accepts: far beyond any bound, never clamping a real entry
INVALID_STYLE = "background:#fde2e1; color:#7a1010;"


def allowed_range(param: Param) -> str:
    return f"{param.minimum}–{param.maximum}{param.unit}"


def param_editor(param: Param) -> QSpinBox | QDoubleSpinBox:
    """A typed field for one demo parameter; it accepts out-of-range numbers (see the module)."""
    tip = f"{param.help} ({allowed_range(param)})"
    if param.kind is int:
        editor: QSpinBox | QDoubleSpinBox = _spin(-FIELD_LIMIT, FIELD_LIMIT, int(param.default), tip)
    else:
        editor = _dspin(-FIELD_LIMIT, FIELD_LIMIT, float(param.default), 3, tip)
        editor.setSingleStep(0.1)
    if param.unit:
        editor.setSuffix(param.unit)
    # As wide as the bounds need, not as wide as FIELD_LIMIT would make it.
    widest = max((editor.textFromValue(v) for v in (param.minimum, param.maximum, param.default)), key=len)
    editor.setFixedWidth(editor.fontMetrics().horizontalAdvance(widest + param.unit + "00") + 28)
    return editor


def param_problem(param: Param, value: float) -> str | None:
    """Why ``value`` cannot be run for ``param`` (the catalogue's own sentence), or None."""
    try:
        param.parse(value)
    except ParamError as exc:
        return str(exc)
    return None


class RunControls(QWidget):
    """A row of fields; ``config()`` turns them into a checked RunConfig or raises ConfigError."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target: Target | None = None
        self.loop_shared = True  # the server runs on this window's loop (False: a child server's)
        self.concurrency = _spin(0, 99_999, 10, "virtual users sending at the same time")
        self.amount_kind = QComboBox(toolTip="stop after a number of requests, or after a time")
        self.amount_kind.addItems([REQUESTS, DURATION])
        self.requests = _spin(0, 9_999_999, 50, "how many requests in total")
        self.duration = _dspin(0.0, 99_999.0, 5.0, 1, "how long the run lasts")
        self.duration.setSuffix(" s")
        self.open_loop = QCheckBox(
            "open loop at",
            toolTip="send at a fixed rate whatever the server does "
            "(latency then counts from when each request was due)",
        )
        self.rate = _dspin(0.0, 1_000_000.0, 100.0, 1, "arrival rate of the open loop")
        self.rate.setSuffix(" req/s")
        self.params_box = QWidget()
        self.params_layout = QHBoxLayout(self.params_box)
        self.params_layout.setContentsMargins(0, 0, 0, 0)
        self.param_editors: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.param_flags: dict[str, QLabel] = {}  # per parameter: the allowed range, shown when out of it
        self.scenario_note = QLabel("a scenario sets its own streams")
        self.scenario_note.setStyleSheet("color:#666; font-style:italic;")

        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        self.knobs = QWidget()
        k = QHBoxLayout(self.knobs)
        k.setContentsMargins(0, 0, 0, 0)
        for w in (
            QLabel("Concurrency"),
            self.concurrency,
            self.requests,
            self.duration,
            self.amount_kind,
            self.open_loop,
            self.rate,
        ):
            k.addWidget(w)
        lay.addWidget(self.knobs)
        lay.addWidget(self.scenario_note)
        lay.addSpacing(12)
        lay.addWidget(self.params_box)
        lay.addStretch(1)
        self.scenario_note.hide()

        self.amount_kind.currentTextChanged.connect(self._sync_enabled)
        self.open_loop.toggled.connect(self._sync_enabled)
        for w in (self.concurrency, self.requests, self.duration, self.rate):
            w.valueChanged.connect(self.changed)
        self.open_loop.toggled.connect(self.changed)
        self.amount_kind.currentTextChanged.connect(self.changed)
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        by_count = self.amount_kind.currentText() == REQUESTS
        self.requests.setVisible(by_count)
        self.duration.setVisible(not by_count)
        self.rate.setEnabled(self.open_loop.isChecked())

    def set_target(self, target: Target) -> None:
        """Show the target's parameters, filled with its defaults."""
        self.target = target
        while self.params_layout.count():
            item = self.params_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.param_editors.clear()
        self.param_flags.clear()
        is_scenario = target.scenario is not None
        self.knobs.setVisible(not is_scenario)
        self.scenario_note.setVisible(is_scenario)
        if target.demo is not None:
            for param in target.demo.params:
                editor = param_editor(param)
                flag = QLabel(f"allowed {allowed_range(param)}", styleSheet="color:#b00000; font-weight:600;")
                flag.hide()
                editor.valueChanged.connect(lambda _v, p=param: self._flag(p))
                editor.valueChanged.connect(self.changed)
                self.param_editors[param.name] = editor
                self.param_flags[param.name] = flag
                self.params_layout.addWidget(QLabel(param.name, toolTip=param.help))
                self.params_layout.addWidget(editor)
                self.params_layout.addWidget(flag)
        self.changed.emit()

    def _flag(self, param: Param) -> None:
        """Mark the parameter's field red, with its allowed range, while its value is out of it."""
        editor, flag = self.param_editors[param.name], self.param_flags[param.name]
        problem = param_problem(param, editor.value())
        editor.setStyleSheet(INVALID_STYLE if problem else "")
        editor.setToolTip(f"{problem}" if problem else f"{param.help} ({allowed_range(param)})")
        flag.setToolTip(problem or "")
        flag.setVisible(problem is not None)

    def invalid_params(self) -> dict[str, str]:
        """The parameters whose field holds a value that cannot run, with the reason."""
        demo = self.target.demo if self.target is not None else None
        found = {}
        for param in demo.params if demo is not None else ():
            editor = self.param_editors.get(param.name)
            problem = param_problem(param, editor.value()) if editor is not None else None
            if problem:
                found[param.name] = problem
        return found

    def params(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.param_editors.items()}

    def settings(self) -> dict[str, Any]:
        """The knobs as plain values (for QSettings and for ``make_config``)."""
        return {
            "concurrency": self.concurrency.value(),
            "amount": self.amount_kind.currentText(),
            "requests": self.requests.value(),
            "duration_s": self.duration.value(),
            "open_loop": self.open_loop.isChecked(),
            "rate": self.rate.value(),
        }

    def apply_settings(self, values: dict[str, Any]) -> None:
        """Restore knobs saved earlier; unknown or malformed entries are ignored."""
        try:
            self.concurrency.setValue(int(values.get("concurrency", self.concurrency.value())))
            self.amount_kind.setCurrentText(str(values.get("amount", self.amount_kind.currentText())))
            self.requests.setValue(int(values.get("requests", self.requests.value())))
            self.duration.setValue(float(values.get("duration_s", self.duration.value())))
            self.open_loop.setChecked(str(values.get("open_loop", False)).lower() in ("true", "1"))
            self.rate.setValue(float(values.get("rate", self.rate.value())))
        except (TypeError, ValueError):
            pass

    def apply_config(self, config: RunConfig) -> None:
        """Show the settings a run was made with (a single demo's stream; a scenario has its own)."""
        if len(config.streams) != 1 or self.target is None or self.target.scenario is not None:
            return
        stream = config.streams[0]
        self.blockSignals(True)  # one ``changed`` at the end, not one per field
        try:
            self.concurrency.setValue(stream.concurrency)
            self.amount_kind.setCurrentText(REQUESTS if stream.requests is not None else DURATION)
            if stream.requests is not None:
                self.requests.setValue(stream.requests)
            if stream.duration_s is not None:
                self.duration.setValue(stream.duration_s)
            self.open_loop.setChecked(stream.rate is not None)
            if stream.rate is not None:
                self.rate.setValue(stream.rate)
            for name, value in stream.params.items():
                editor = self.param_editors.get(name)
                if editor is not None:
                    editor.setValue(value)
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def config(self) -> RunConfig:
        """A checked RunConfig for the current target; raises ConfigError with a one-line message."""
        from engine.config import ConfigError

        if self.target is None:
            raise ConfigError("pick a demo or scenario in the catalogue first")
        if self.target.scenario is not None:
            return make_config(self.target.id)
        s = self.settings()
        by_count = s["amount"] == REQUESTS
        return make_config(
            self.target.id,
            concurrency=s["concurrency"],
            requests=s["requests"] if by_count else None,
            duration_s=None if by_count else s["duration_s"],
            rate=s["rate"] if s["open_loop"] else None,
            params=self.params(),
        )

    def loop_block_s(self, config: RunConfig) -> float:
        """How long this run will block the shared event loop (and so this window), if known;
        0 when a child server serves the run (``loop_shared`` is False: its loop is not ours)."""
        from engine.plan import predicted_loop_block_s

        return predicted_loop_block_s(config) if self.loop_shared else 0.0
