"""Inspecting one request: hover, click to select, the details pane, Esc, in both views.

Every test runs a real demo on the embedded site and acts through the widgets' own doors:
a ToolTip QHelpEvent through ``event()``, a mouse click at a bar's pixel, an Esc key press.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from engine.request_detail import request_detail
from gui.timeline_model import CHILD_HEIGHT, CHILD_SLOTS, CHILD_TOP

from .conftest import call_in_loop, run_until
from .test_window import _configure, hover


def _run(window, loop, target: str, requests: int, concurrency: int, **params: float) -> None:
    _configure(window, target, requests, concurrency, **params)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 90)
    assert window.model is not None and window.model.complete


def _bar_pixel(window, bar, child=None, slot: int = 0) -> QPoint:
    """The middle of a bar (above its upstream-call stripes), or of one of its stripes."""
    canvas = window.canvas
    area = canvas.data_rect()
    target = child or bar
    t = window.model.ms((target.start_ns + target.end_ns) // 2)
    x = area.left() + (t - canvas.axis.t0) / canvas.axis.span * area.width()
    frac = 0.2 if child is None else CHILD_TOP + (slot + 0.5) * CHILD_HEIGHT
    y = area.top() + (bar.row + frac) * canvas.row_height() - canvas.v_offset
    return QPoint(round(x), round(y))


def _widest_bar(window):
    return max(window.model.bars, key=lambda b: b.end_ns - b.start_ns)


def test_clicking_a_bar_shows_its_sql_and_esc_clears(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "orm-n-plus-one", 4, 2, rows=5)
    bar = _widest_bar(window)
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_bar_pixel(window, bar))

    assert window.selection == (bar.client_id, None)
    pane = window.details
    assert pane.isVisible()
    assert f"request #{bar.client_id}" in pane.summary.text()
    assert "HTTP 200" in pane.summary.text()
    # One query for the books and one per book for its author, each with its duration and thread.
    sql = [pane.sql.topLevelItem(i) for i in range(pane.sql.topLevelItemCount())]
    assert len(sql) == 6
    assert all("SELECT" in item.text(4) for item in sql)
    assert all(item.text(1).endswith("ms") and item.text(2) for item in sql)
    assert pane.tabs.tabText(1) == "SQL (6)"
    # The spans are nested: the request holds the middleware chain, which holds the view.
    root = pane.spans.topLevelItem(0)
    assert root.text(0).startswith("django")
    middleware = next(root.child(i) for i in range(root.childCount()) if "middleware" in root.child(i).text(0))
    kinds = _descendant_texts(middleware)
    assert any(t.startswith("view") for t in kinds) and any(t.startswith("SQL") for t in kinds)
    # Outlined where it is drawn, in both views.
    assert window.canvas.highlight["requests"] == [
        (bar.row, window.model.ms(bar.start_ns), window.model.ms(bar.end_ns))
    ]
    assert window.canvas.highlight["threads"]
    assert _outlined(window, bar)  # and it is drawn: a dark outline at the bar's left edge

    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.selection is None
    assert not pane.isVisible()
    assert window.canvas.highlight == {"requests": [], "threads": []}
    assert not _outlined(window, bar)


def _outlined(window, bar) -> bool:
    """Whether the painted canvas shows the selection's dark outline at ``bar``'s left edge."""
    canvas = window.canvas
    image = canvas.grab().toImage()
    area = canvas.data_rect()
    x = area.left() + (window.model.ms(bar.start_ns) - canvas.axis.t0) / canvas.axis.span * area.width()
    y = area.top() + (bar.row + 0.4) * canvas.row_height() - canvas.v_offset
    dpr = image.devicePixelRatio()
    return any(image.pixelColor(round((x + dx) * dpr), round(y * dpr)).lightness() < 40 for dx in range(-3, 2))


def _descendant_texts(item) -> list[str]:
    out = []
    for i in range(item.childCount()):
        out.append(item.child(i).text(0))
        out.extend(_descendant_texts(item.child(i)))
    return out


def test_a_failing_demo_shows_its_exception_and_traceback(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "article-async-all", 3, 3)
    bar = window.model.bars[0]
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_bar_pixel(window, bar))
    pane = window.details
    assert pane.isVisible() and "HTTP 500" in pane.summary.text()
    assert "AttributeError" in pane.summary.text()
    assert pane.tabs.currentWidget() is pane.exception
    text = pane.exception.toPlainText()
    assert text.startswith("Traceback (most recent call last):")
    assert "async_all" in text and "article.py" in text
    assert "AttributeError" in text.splitlines()[-1]


def test_clicking_a_span_in_the_threads_view_selects_its_request(window, gui_lab, qtbot) -> None:
    _, loop = gui_lab
    _run(window, loop, "sync-sleep", 3, 3, delay=0.2)
    window.view_tabs.setCurrentIndex(1)
    model, canvas = window.model, window.canvas
    lane = next(i for i, label in enumerate(model.lane_labels) if i > 0 and model.lane_spans[i])
    span = max(model.lane_spans[lane], key=lambda p: p.end_ns - p.start_ns)
    area = canvas.data_rect()
    t = model.ms((span.start_ns + span.end_ns) // 2)
    x = area.left() + (t - canvas.axis.t0) / canvas.axis.span * area.width()
    y = area.top() + (lane + 0.4) * canvas.row_height()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))

    assert window.selection is not None
    client_id = window.selection[0]
    server = window.record.server_by_client_id()[client_id]
    assert any(s.start_ns == span.start_ns and s.thread_id == span.thread_id for s in server.spans)
    assert (lane, model.ms(span.start_ns), model.ms(span.end_ns)) in canvas.highlight["threads"]
    bar = next(b for b in model.bars if b.client_id == client_id)
    assert canvas.highlight["requests"][0][0] == bar.row
    # A click on empty space clears the selection.
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(area.right()) - 2, round(area.bottom()) - 2))
    assert window.selection is None


def test_hover_in_the_threads_view_names_the_span_and_its_thread(window, gui_lab) -> None:
    _, loop = gui_lab
    _run(window, loop, "sync-sleep", 2, 2, delay=0.2)
    window.view_tabs.setCurrentIndex(1)
    model, canvas = window.model, window.canvas
    lane = next(i for i in range(1, len(model.lane_ids)) if model.lane_spans[i])
    span = max(model.lane_spans[lane], key=lambda p: p.end_ns - p.start_ns)
    area = canvas.data_rect()
    t = model.ms((span.start_ns + span.end_ns) // 2)
    x = area.left() + (t - canvas.axis.t0) / canvas.axis.span * area.width()
    tip = hover(canvas, x, area.top() + (lane + 0.4) * canvas.row_height())
    # The innermost span there: the view's time.sleep, on its request thread.
    assert "blocking call" in tip and "time.sleep(0.2)" in tip and model.lane_labels[lane] in tip
    assert hover(canvas, area.right() - 2, area.bottom() - 2) == ""


def test_request_detail_nests_spans_by_time(window, gui_lab) -> None:
    """The engine's derivation, on a real record: children lie inside their parents."""
    _, loop = gui_lab
    _run(window, loop, "orm-n-plus-one", 2, 1, rows=3)
    client = window.record.client[0]
    detail = request_detail(window.record, client.id)
    assert detail is not None and detail.status == 200 and detail.bytes > 0
    for node in detail.spans[0].walk():
        for child in node.children:
            assert node.start_ns <= child.start_ns and child.end_ns <= node.end_ns
    labels = [t.label for t in detail.timings]
    assert "total (client)" in labels and "server total" in labels
    assert request_detail(window.record, 10**9) is None


def test_an_upstream_call_no_client_sent_can_be_inspected(window, gui_lab, qtbot) -> None:
    """A fan-out's upstream calls are requests of their own, with no client id: a click finds them."""
    _, loop = gui_lab
    _run(window, loop, "fanout-gather", 1, 1)
    parent = next(b for b in window.model.bars if b.children)
    child = max(parent.children, key=lambda b: b.end_ns - b.start_ns)
    # Upstream calls are drawn as stripes inside the bar of the request that made them.
    slot = parent.children.index(child) % CHILD_SLOTS
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=_bar_pixel(window, parent, child, slot))
    assert window.selection is not None and window.selection[0] is None
    assert "server-only request" in window.details.summary.text()
    assert child.path in window.details.summary.text()


def test_hovering_a_blocked_stretch_names_what_held_the_loop(window, gui_lab) -> None:
    """The shaded band over a stall says how long and by what, as the loop-blocked finding does."""
    _, loop = gui_lab
    _run(window, loop, "blocking-sleep", 1, 1, delay=0.3)
    stall = max(window.record.stalls, key=lambda s: s.duration_ns)
    canvas = window.canvas
    area = canvas.data_rect()
    t = window.model.ms((stall.start_ns + stall.end_ns) // 2)
    x = area.left() + (t - canvas.axis.t0) / canvas.axis.span * area.width()
    tip = hover(canvas, x, area.top() - 2)  # the hatched band above the rows
    assert "loop blocked" in tip and "time.sleep" in tip and "basics.py" in tip, tip
