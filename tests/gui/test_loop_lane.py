"""The event-loop lane in the window shows what the loop's thread measurably did.

Real runs in the window on its Qt-driven loop; the Threads tab is clicked, the lane is read
from the painted pixels, and hover goes through a real ToolTip QHelpEvent.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt

from engine.phases import BLOCKING
from gui import theme

from .conftest import call_in_loop, run_until
from .test_window import _configure, hover


def _run(window, loop, target: str, requests: int, concurrency: int, **params: float) -> None:
    _configure(window, target, requests, concurrency, **params)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 90)
    assert window.model is not None and window.model.complete


def _threads_tab(window, qtbot) -> None:
    tabs = window.view_tabs
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(1).center())
    assert window.canvas.mode == "threads"


def _x_of(window, t_ns: int) -> float:
    canvas, model = window.canvas, window.model
    area = canvas.data_rect()
    return area.left() + (model.ms(t_ns) - canvas.axis.t0) / canvas.axis.span * area.width()


def _loop_lane_y(window) -> float:
    canvas = window.canvas
    return canvas.data_rect().top() + 0.4 * canvas.row_height()


def test_the_loop_lane_is_busy_with_the_blocking_requests_and_says_whose(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "blocking-sleep", 2, 2, delay=0.4)
    _threads_tab(window, qtbot)
    record = window.model.record
    assert record.loop_activity is not None and record.loop_activity.measured
    blocking = [p for p in window.model.lane_spans[0] if p.phase == BLOCKING]
    assert blocking, "the measured loop lane shows the blocking calls"
    piece = max(blocking, key=lambda p: p.end_ns - p.start_ns)
    assert piece.end_ns - piece.start_ns >= 0.3e9
    x, y = _x_of(window, (piece.start_ns + piece.end_ns) // 2), _loop_lane_y(window)
    # Painted in the blocking colour where the loop slept in the view.
    image = window.canvas.grab().toImage()
    seen = Counter(image.pixel(int(x) + dx, int(y)) & 0xFFFFFF for dx in range(-3, 4))
    assert seen.most_common(1)[0][0] == theme.colour(BLOCKING).rgb() & 0xFFFFFF
    tip = hover(window.canvas, x, y)
    assert "<b>event loop</b> busy" in tip and "idle 0.00 ms" in tip
    client = piece.detail.split()[1]  # "request #N GET /demo/blocking-sleep/ · time.sleep(0.4)"
    assert f"request {client} GET /demo/blocking-sleep/" in tip
    assert "drawn here: <b>blocking the loop</b>" in tip and "time.sleep(0.4)" in tip


def test_the_loop_lane_is_empty_where_the_loop_waited(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "async-sleep", 2, 2, delay=0.6)
    _threads_tab(window, qtbot)
    model = window.model
    # The middle of the two overlapping sleeps: the loop only waited there (a heartbeat at most).
    servers = model.record.server
    middle = (max(s.arrival_ns for s in servers) + min(s.end_ns for s in servers)) // 2
    x, y = _x_of(window, middle), _loop_lane_y(window)
    found = None
    for dx in range(0, 200, 3):  # a pixel where nothing at all ran (the heartbeat wakes every 4 ms)
        tip = hover(window.canvas, x + dx, y)
        if "whose code ran" not in tip:
            found = x + dx
            break
    assert found is not None, tip
    assert "<b>event loop</b> busy 0.00 ms" in tip
    assert "idle: the loop waited for events" in tip
    # Painted at the fitted zoom (a pixel of about a bucket or more): where the loop mostly
    # waited a pixel is empty, however many slivers of heartbeat fall into it.
    image = window.canvas.grab().toImage()
    lane_colours = {theme.colour(p.phase).rgb() & 0xFFFFFF for p in model.lane_spans[0]}
    begin, end = max(s.arrival_ns for s in servers) + 50_000_000, min(s.end_ns for s in servers) - 50_000_000
    xs = range(int(_x_of(window, begin)), int(_x_of(window, end)))
    painted = sum(1 for px in xs if image.pixel(px, int(y)) & 0xFFFFFF in lane_colours)
    assert len(xs) > 100 and painted < 0.5 * len(xs), (painted, len(xs))
    # Painted: zoomed in to 40 ms of the sleeps (a pixel well under a bucket), the lane is
    # mostly background; only the heartbeat's, the ticker's and Qt's slivers show.
    begin = middle - 20_000_000
    window.canvas.axis.show(model.ms(begin), model.ms(begin + 40_000_000))
    image = window.canvas.grab().toImage()
    lane_colours = {theme.colour(p.phase).rgb() & 0xFFFFFF for p in model.lane_spans[0]}
    xs = range(int(_x_of(window, begin)) + 1, int(_x_of(window, begin + 40_000_000)) - 1)
    painted = sum(1 for px in xs if image.pixel(px, int(y)) & 0xFFFFFF in lane_colours)
    assert len(xs) > 100 and painted < 0.5 * len(xs), (painted, len(xs))
    busy = sum(
        min(p.end_ns, begin + 40_000_000) - max(p.start_ns, begin)
        for p in model.lane_spans[0]
        if p.end_ns > begin and p.start_ns < begin + 40_000_000
    )
    assert busy < 0.5 * 40_000_000


def test_clicking_the_loop_lane_selects_the_request_whose_code_ran(window, gui_lab, qtbot) -> None:
    from PySide6.QtCore import QPoint

    _, loop = gui_lab
    _run(window, loop, "blocking-sleep", 2, 2, delay=0.3)
    _threads_tab(window, qtbot)
    piece = max((p for p in window.model.lane_spans[0] if p.phase == BLOCKING), key=lambda p: p.end_ns - p.start_ns)
    client = int(piece.detail.split()[1].lstrip("#"))
    x, y = _x_of(window, (piece.start_ns + piece.end_ns) // 2), _loop_lane_y(window)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))
    assert window.selection is not None and window.selection[0] == client
    assert f"request #{client}" in window.details.summary.text()
