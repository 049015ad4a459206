"""The Database menu stores the choice for the next start, and the connection strip draws
PostgreSQL's measured connection count under the timeline."""

from __future__ import annotations

import time

import psycopg
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from gui import database_menu
from gui.connection_strip import CONNECTION_COLOUR, ConnectionStrip, connection_steps
from gui.time_axis import TimeAxis
from gui.timeline_model import TimelineModel
from gui.timeline_view import TimelineCanvas


def _click_menu_entry(window, qtbot, title: str, text: str) -> None:
    bar = window.menuBar()
    menu_action = next(a for a in bar.actions() if a.text().replace("&", "") == title)
    menu = menu_action.menu()
    bar_pos = bar.actionGeometry(menu_action).center()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar_pos)
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    entry = next(a for a in menu.actions() if a.text() == text)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(entry).center())


def test_choosing_the_labs_own_cluster_is_saved_for_the_next_start(window, qtbot):
    assert database_menu.saved()[0] == database_menu.SQLITE
    assert window.database_actions[database_menu.SQLITE].isChecked()
    _click_menu_entry(window, qtbot, "Database", "PostgreSQL: the lab's own cluster")
    try:
        qtbot.waitUntil(lambda: database_menu.saved()[0] == database_menu.PRIVATE, timeout=3000)
        assert "next started" in window.statusBar().currentMessage()
        _click_menu_entry(window, qtbot, "Database", "Django's connection pool (PostgreSQL)")
        qtbot.waitUntil(lambda: database_menu.saved()[2], timeout=3000)
    finally:
        database_menu._settings().clear()


def test_the_strip_draws_the_connections_postgresql_counted(lab_runner, pg_url, qtbot):
    from embedded_site.dbconfig import parse_url
    from engine.pgactivity import ConnectionSampler

    record = lab_runner.run("hello", concurrency=2, requests=2)
    target = parse_url(pg_url)
    record.database = {"vendor": "postgresql", "max_connections": 100}
    record.connections = []
    sampler = ConnectionSampler(target, record.connections, record.connection_errors)
    sampler.start()
    held = [psycopg.connect(**target.conninfo()) for _ in range(6)]
    time.sleep(0.3)
    for conn in held:
        conn.close()
    time.sleep(0.2)
    sampler.stop()
    # The record's own time axis: the samples came after the run, so the model spans them too.
    record.finished_ns = record.connections[-1][0]
    model = TimelineModel.of_finished(record)
    assert max(c for _, c in connection_steps(model)) == 6
    axis = TimeAxis()
    axis.fit(model.span_ms)
    canvas = TimelineCanvas(axis)
    canvas.set_model(model)
    strip = ConnectionStrip(axis, canvas)
    qtbot.addWidget(strip)
    strip.resize(800, 60)
    strip.set_model(model)
    assert not strip.isHidden(), "shown for a run on PostgreSQL"
    gutter = int(canvas.gutter)
    image = strip.grab().toImage()
    blue = CONNECTION_COLOUR.rgb() & 0xFFFFFF
    seen = sum(1 for x in range(gutter, 800) for y in range(60) if image.pixel(x, y) & 0xFFFFFF == blue)
    assert seen > 20, "the step curve is drawn in PostgreSQL blue"
