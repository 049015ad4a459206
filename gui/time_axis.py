"""The visible time window, shared by the timeline and the loop strip so they always line up."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class TimeAxis(QObject):
    """A window [t0, t1] in ms since the run started; ``follow`` keeps it fitted to a growing run."""

    changed = Signal()
    MIN_SPAN_MS = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.t0, self.t1 = 0.0, 1000.0
        self.follow = True

    @property
    def span(self) -> float:
        return self.t1 - self.t0

    def fit(self, span_ms: float) -> None:
        self.follow = True
        self._set(0.0, max(span_ms * 1.02, 1.0))

    def zoom(self, factor: float, anchor_ms: float) -> None:
        """Scale the window by ``factor`` (<1 zooms in) keeping ``anchor_ms`` under the cursor."""
        self.follow = False
        span = max(self.MIN_SPAN_MS, self.span * factor)
        frac = (anchor_ms - self.t0) / self.span if self.span else 0.5
        t0 = anchor_ms - frac * span
        self._set(t0, t0 + span)

    def show(self, t0: float, t1: float) -> None:
        """Show exactly [t0, t1] (e.g. to bring one request into view)."""
        self.follow = False
        self._set(t0, max(t1, t0 + self.MIN_SPAN_MS))

    def pan(self, delta_ms: float) -> None:
        self.follow = False
        self._set(self.t0 + delta_ms, self.t1 + delta_ms)

    def _set(self, t0: float, t1: float) -> None:
        if (t0, t1) != (self.t0, self.t1):
            self.t0, self.t1 = t0, t1
            self.changed.emit()


def nice_step(span_ms: float, max_ticks: int) -> float:
    """A 1/2/5 × 10^k step giving at most ``max_ticks`` ticks over ``span_ms``."""
    raw = span_ms / max(1, max_ticks)
    step = 1e-6
    while True:
        for m in (1, 2, 5):
            if step * m >= raw:
                return step * m
        step *= 10


def format_ms(t_ms: float, step_ms: float) -> str:
    if step_ms >= 1000:
        return f"{t_ms / 1000:g} s"
    if step_ms >= 1:
        return f"{t_ms:g} ms"
    return f"{t_ms * 1000:.0f} µs"
