"""The headline in large type, the other findings under it, what the demo's lesson says to
look for (its checks, ✓ or ✗ on this run, with the numbers), and the numbers behind it all,
from ``engine.stats.compute``."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from engine.findings.claims import Outcome, check_all, claims_for
from engine.stats import RunStats

ROWS = (
    ("wall", "Wall time"),
    ("throughput", "Throughput"),
    ("latency", "Latency p50 / p95"),
    ("latency_tail", "Latency p99 / max"),
    ("in_flight", "Max in flight"),
    ("views", "Views at once / mean"),
    ("threads", "Server threads used"),
    ("lag", "Loop lag p99 / max"),
    ("blocked", "Loop blocked"),
    ("requests", "Done / sent / errors"),
)
SEVERITY_MARK = {"problem": "●", "warning": "▲", "notice": "■", "info": "·"}
SEVERITY_COLOUR = {"problem": "#b3261e", "warning": "#a05a00", "notice": "#455a64", "info": "#555"}


def stat_texts(st: RunStats) -> dict[str, str]:
    """Each row's value as the user reads it."""
    lat = st.latency_ms
    return {
        "wall": f"{st.wall_s:.3f} s",
        "throughput": f"{st.throughput_rps:,.1f} req/s",
        "latency": f"{lat['p50']:.1f} / {lat['p95']:.1f} ms",
        "latency_tail": f"{lat['p99']:.1f} / {lat['max']:.1f} ms",
        "in_flight": str(st.max_in_flight),
        "views": f"{st.views_at_once} / {st.views_at_once_mean:.1f}",
        "threads": str(st.distinct_server_threads),
        "lag": f"{st.loop_lag_ms['p99']:.1f} / {st.loop_lag_ms['max']:.1f} ms",
        "blocked": f"{st.blocked_ms / 1000:.2f} s ({st.blocked_share:.0%}, {st.stalls} stalls)",
        "requests": f"{st.completed} / {st.requests} / {st.errors}"
        + (f" (+{st.cancelled} cancelled)" if st.cancelled else ""),
    }


def findings_html(st: RunStats) -> str:
    """The findings under the headline, most important first, each marked by its severity."""
    items = []
    for f in st.findings[1:]:
        colour = SEVERITY_COLOUR.get(f["severity"], "#555")
        mark = SEVERITY_MARK.get(f["severity"], "·")
        sentence = f["sentence"][:1].upper() + f["sentence"][1:]
        items.append(f"<p style='margin:2px 0'><span style='color:{colour}'>{mark}</span> {escape(sentence)}.</p>")
    return "".join(items)


def checks_outcomes(st: RunStats) -> list[Outcome]:
    return check_all(claims_for(st.target), st)


def checks_html(outcomes: list[Outcome], at_defaults: bool = True) -> str:
    if not outcomes:
        return ""
    how = (
        "the lesson's claims, checked on this run"
        if at_defaults
        else "the lesson's claims are made for its default settings; this run's differ, so a ✗ may be theirs"
    )
    lines = [f"<p style='margin:2px 0'><b>What to look for</b> ({how})</p>"]
    for o in outcomes:
        colour = "#1b7a3a" if o.ok else "#b3261e"
        lines.append(
            f"<p style='margin:2px 0'><span style='color:{colour}'>{'✓' if o.ok else '✗'}</span> "
            f"{escape(o.check.text)} <span style='color:#666'>({escape(o.measured)})</span></p>"
        )
    return "".join(lines)


class StatsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict = QLabel("No run yet.", wordWrap=True)
        self.verdict.setStyleSheet("font-size: 17px; font-weight: 600; color: #1b3a66;")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings = QLabel("", wordWrap=True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checks = QLabel("", wordWrap=True)
        self.checks.setTextFormat(Qt.TextFormat.RichText)
        self.checks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcomes: list[Outcome] = []
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
        lay.addWidget(self.findings)
        lay.addWidget(self.checks)
        lay.addLayout(grid)
        lay.addStretch(1)
        self.stats: RunStats | None = None

    def show_stats(self, st: RunStats | None, note: str = "", at_defaults: bool = True) -> None:
        """``at_defaults``: the run used its target's default settings, which its claims are made for."""
        self.stats = st
        if st is None:
            self.verdict.setText(note or "Running…")
            self.findings.setText("")
            self.checks.setText("")
            self.outcomes = []
            for v in self.values.values():
                v.setText("–")
            return
        self.verdict.setText(st.verdict + (f"\n{note}" if note else ""))
        self.findings.setText(findings_html(st))
        self.outcomes = checks_outcomes(st)
        self.checks.setText(checks_html(self.outcomes, at_defaults))
        for key, text in stat_texts(st).items():
            self.values[key].setText(text)
