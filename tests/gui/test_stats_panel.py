"""After a run the stats panel shows the headline, the other findings, and the demo's
checks with ✓/✗ and the numbers they were checked against (a real run in the window)."""

from __future__ import annotations

from html import escape

from .conftest import call_in_loop, run_until
from .test_window import _configure


def test_after_a_run_the_panel_lists_findings_and_checks(window, gui_lab) -> None:
    _, loop = gui_lab
    _configure(window, "sync-to-async-threadpool", 12, 12, delay=0.3)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    panel = window.stats_panel
    stats = window.stats
    assert panel.verdict.text().startswith(stats.verdict)
    # The headline is not repeated under itself; the next finding is listed.
    listed = panel.findings.text()
    assert stats.findings[1]["sentence"][1:40] in listed
    assert stats.findings[0]["sentence"][1:40] not in listed
    # What to look for: every declared check, marked, with what was measured.
    text = panel.checks.text()
    assert "What to look for" in text
    assert len(panel.outcomes) == 3
    for outcome in panel.outcomes:
        assert ("✓" if outcome.ok else "✗") in text and escape(outcome.check.text) in text
    assert "measured" in text
    # 12 × 12 at 0.3 s is not the demo's default run, which its claims are made for: said above them.
    assert "made for its default settings" in text
    assert panel.values["views"].text().split(" / ")[0] == str(stats.views_at_once)


def test_running_clears_the_findings_and_checks(window) -> None:
    window.stats_panel.show_stats(None, "Running…")
    assert window.stats_panel.findings.text() == "" and window.stats_panel.checks.text() == ""
