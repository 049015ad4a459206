"""The verdict in large type and the numbers behind it, from ``engine.stats.compute``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.stats import RunStats

ROWS = (
    ("wall", "Wall time"),
    ("throughput", "Throughput"),
    ("latency", "Latency p50 / p95"),
    ("latency_tail", "Latency p99 / max"),
    ("in_flight", "Max in flight"),
    ("threads", "Server threads used"),
    ("lag", "Loop lag p99 / max"),
    ("blocked", "Loop blocked"),
    ("requests", "Done / sent / errors"),
)


def stat_texts(st: RunStats) -> dict[str, str]:
    """Each row's value as the user reads it."""
    lat = st.latency_ms
    return {
        "wall": f"{st.wall_s:.3f} s",
        "throughput": f"{st.throughput_rps:,.1f} req/s",
        "latency": f"{lat['p50']:.1f} / {lat['p95']:.1f} ms",
        "latency_tail": f"{lat['p99']:.1f} / {lat['max']:.1f} ms",
        "in_flight": str(st.max_in_flight),
        "threads": str(st.distinct_server_threads),
        "lag": f"{st.loop_lag_ms['p99']:.1f} / {st.loop_lag_ms['max']:.1f} ms",
        "blocked": f"{st.blocked_ms / 1000:.2f} s",
        "requests": f"{st.completed} / {st.requests} / {st.errors}",
    }


class StatsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = QLabel("No run yet.", wordWrap=True)
        self.verdict.setStyleSheet("font-size: 17px; font-weight: 600; color: #1b3a66;")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        for i, (key, title) in enumerate(ROWS):
            name = QLabel(title)
            name.setStyleSheet("color:#555;")
            value = QLabel("–")
            value.setStyleSheet("font-weight:600;")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, i, 0)
            grid.addWidget(value, i, 1)
            self.values[key] = value
        lay = QVBoxLayout(self)
        lay.addWidget(self.verdict)
        lay.addLayout(grid)
        lay.addStretch(1)
        self.stats: RunStats | None = None

    def show_stats(self, st: RunStats | None, note: str = "") -> None:
        self.stats = st
        if st is None:
            self.verdict.setText(note or "Running…")
            for v in self.values.values():
                v.setText("–")
            return
        self.verdict.setText(st.verdict + (f"\n{note}" if note else ""))
        for key, text in stat_texts(st).items():
            self.values[key].setText(text)
