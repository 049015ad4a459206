"""The Server menu: a click serves the window's runs from a real child server (its spans stream
into the run record and its findings name it); a server that cannot start is one message and
the lab goes on with the server it had; Compare → Should I go async? runs a deploy preset's runs
on their servers in child processes and opens their comparison, CPU per request included."""

from __future__ import annotations

import dataclasses
import socket

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.servers import EMBEDDED, ServerSpec
from engine.servers.child import ChildServer
from gui import server_menu

from .conftest import call_in_loop, run_until
from .test_window import _configure


def _open_menu(window, qtbot, title: str):
    bar = window.menuBar()
    menu_action = next(a for a in bar.actions() if a.text().replace("&", "") == title)
    menu = menu_action.menu()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(menu_action).center())
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    return menu


def _click_entry(window, qtbot, loop, title: str, text: str) -> None:
    menu = _open_menu(window, qtbot, title)
    entry = next(a for a in menu.actions() if a.text() == text)
    pos = menu.actionGeometry(entry).center()
    call_in_loop(loop, lambda: QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=pos))


@pytest.fixture
def back_to_embedded(gui_lab):
    """The session's lab is shared: whatever a test chose, it ends on the embedded server."""
    lab, loop = gui_lab
    yield
    if lab.server_spec.name != EMBEDDED:
        loop.run_until_complete(lab.use_server(ServerSpec()))
    assert lab.server_spec.name == EMBEDDED and lab.server is not None


def _switched(window, name: str) -> bool:
    return window.server_task is None and window.lab.server_spec.name == name


def test_a_click_on_uvicorn_serves_the_next_run_from_a_child_with_its_spans(
    window, gui_lab, qtbot, back_to_embedded
) -> None:
    lab, loop = gui_lab
    embedded_url = lab.url
    assert window.server_actions[EMBEDDED].isChecked()
    _click_entry(window, qtbot, loop, "Server", server_menu.DESCRIPTIONS["uvicorn"])
    assert run_until(loop, lambda: _switched(window, "uvicorn"), 90)
    assert isinstance(lab.server, ChildServer) and lab.server.running
    assert window.server_actions["uvicorn"].isChecked()
    assert window.server_now.text() == "Now: uvicorn in a child process, 1 worker"
    assert lab.url != embedded_url and lab.url in window.url_label.text()
    child_pid = lab.server.process.pid

    # A blocking demo blocks the child's loop, not the window's: no freeze question.
    _configure(window, "sync-sleep", 8, 8, delay=0.3)
    assert window.controls.loop_block_s(window.controls.config()) == 0.0
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task is not None and window.run_task.done(), 120)
    record = window.record
    assert record.extra["server"]["name"] == "uvicorn" and record.extra["server"]["workers"] == 1
    assert record.extra["server"]["cpu_s"] > 0, "the child's CPU for the run was measured"
    assert len(record.server) == 8, "every request's server side streamed back from the child"
    assert {"view", "blocking", "hop-wait"} <= {s.kind for r in record.server for s in r.spans}
    assert record.lag, "the child's heartbeat streamed its lag samples"
    assert record.loop_activity is None, "the lab meters its own loop, not the child's"
    stats = window.stats
    assert stats.completed == 8 and stats.errors == 0
    served = next(f for f in stats.findings if f["id"] == "server")
    assert served["evidence"]["server"] == "uvicorn"
    assert served["sentence"].startswith("Served by uvicorn in a child process, 1 worker (asgi)")
    assert f"{stats.cpu_ms_per_request:.2f} ms of CPU per request" in served["sentence"]
    assert "Served by uvicorn" in window.stats_panel.findings.text()  # the window shows it
    assert lab.server.process.pid == child_pid, "the same child served the run"

    # Back to the embedded server: the child is gone.
    _click_entry(window, qtbot, loop, "Server", server_menu.DESCRIPTIONS[EMBEDDED])
    assert run_until(loop, lambda: _switched(window, EMBEDDED), 60)
    assert not isinstance(lab.server, ChildServer)
    import psutil

    assert not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE


def test_gunicorn_workers_and_threads_from_the_menu_are_the_runs(window, gui_lab, back_to_embedded) -> None:
    lab, loop = gui_lab
    window.server_workers, window.server_threads = 2, 4
    task = call_in_loop(loop, lambda: server_menu.choose(window, "gunicorn-wsgi"))
    assert task is not None and run_until(loop, task.done, 90) and task.result()
    assert lab.server_spec == ServerSpec("gunicorn-wsgi", 2, 4)
    assert window.server_now.text() == "Now: gunicorn-wsgi in a child process, 2 workers × 4 threads (gthread)"
    assert window.threads_action.isEnabled() and window.workers_action.isEnabled()
    _configure(window, "sync-sleep", 8, 8, delay=0.3)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 120)
    server = window.record.extra["server"]
    shape = (server["name"], server["workers"], server["threads"], server["worker"])
    assert shape == ("gunicorn-wsgi", 2, 4, "gthread")
    assert len(window.record.server) == 8
    served = next(f for f in window.stats.findings if f["id"] == "server")
    assert "2 workers × 4 threads (gthread)" in served["sentence"]
    # 8 threads in all serve 8 sleeping requests together: about one sleep, not eight.
    assert window.stats.wall_s < 8 * 0.3 / 2
    # WSGI has no event loop: each time.sleep blocks its worker thread, and nothing is drawn
    # as the loop's (no "blocking the loop", no loop lane, no loop meter).
    from engine.phases import BLOCKING, NO_LOOP, THREAD_BLOCKING

    record = window.record
    assert record.loop_thread_id == NO_LOOP and record.loop_activity is None
    drawn = {p.phase for bar in window.model.bars for p in bar.phases}
    assert THREAD_BLOCKING in drawn and BLOCKING not in drawn, drawn
    assert window.model.lane_ids and NO_LOOP not in window.model.lane_ids
    assert not any(f["id"].startswith("loop-busy") for f in window.stats.findings)


def test_a_server_that_cannot_start_is_one_message_and_the_lab_goes_on(
    window, gui_lab, qtbot, monkeypatch, back_to_embedded
) -> None:
    import engine.servers.child

    lab, loop = gui_lab
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(engine.servers.child, "free_port", lambda: port)  # the child gets a taken port
        _click_entry(window, qtbot, loop, "Server", server_menu.DESCRIPTIONS["hypercorn"])
        assert run_until(loop, lambda: window.server_task is None and getattr(window, "server_failure", None), 90)
    box = window.server_failure
    assert box.isVisible() and box.objectName() == "server-failed"
    assert box.text().startswith("the hypercorn server did not start"), box.text()
    assert "\n" not in box.text()
    assert "goes on with embedded" in box.informativeText()
    assert lab.server_spec.name == EMBEDDED and window.server_actions[EMBEDDED].isChecked()
    box.close()
    # The lab keeps running: a run on the embedded server works.
    _configure(window, "hello", 5, 5)
    assert call_in_loop(loop, window.start_run)
    assert run_until(loop, lambda: window.run_task.done(), 60)
    assert window.stats.completed == 5 and window.stats.errors == 0
    assert window.record.extra["server"]["name"] == EMBEDDED


def test_a_deploy_preset_click_runs_its_servers_in_children_and_compares_them(
    window, gui_lab, qtbot, monkeypatch
) -> None:
    """Compare → Should I go async? → I/O-bound, at a small load (the preset's own runs and servers)."""
    import engine.deploy_presets as deploy_presets

    _, loop = gui_lab
    small = dataclasses.replace(deploy_presets.DEPLOY_PRESETS["io-bound"], concurrency=20, requests=60)
    monkeypatch.setitem(deploy_presets.DEPLOY_PRESETS, "io-bound", small)
    menu = _open_menu(window, qtbot, "Compare")
    deploy = next(a for a in menu.actions() if a.text() == "Should I go async?").menu()
    assert [a.text() for a in deploy.actions()] == [p.title for p in deploy_presets.DEPLOY_PRESETS.values()]
    menu.close()
    call_in_loop(loop, window.preset_actions["deploy:io-bound"].trigger)
    assert window.controller.busy
    assert run_until(loop, lambda: window.series_task.done(), 240)
    views = window.series_task.result()
    assert len(views) == 1, window.error.text()
    view = views[0]
    qtbot.addWidget(view)
    cmp = view.comparison
    assert [r.label for r in cmp.runs] == ["sync-sleep on gunicorn-wsgi 2×8", "async-sleep on uvicorn"]
    assert [r.record.extra["server"]["name"] for r in cmp.runs] == ["gunicorn-wsgi", "uvicorn"]
    assert all(r.stats.completed == 60 and r.stats.errors == 0 for r in cmp.runs)
    assert all(len(r.record.server) == 60 for r in cmp.runs), "each child's spans arrived"
    cpu = [r.stats.cpu_ms_per_request for r in cmp.runs]
    assert all(c is not None and c > 0 for c in cpu)
    keys = [m.key for m in cmp.metrics]
    row = keys.index("cpu")
    assert view.table.verticalHeaderItem(row).text() == "CPU per request"
    assert view.table.item(row, 0).text().startswith(f"{cpu[0]:.2f} ms")
    ratio = max(cpu) / min(cpu)
    assert ("CPU per request" in cmp.sentence) == (ratio >= 1.1), cmp.sentence
    assert not window.controller.busy and window.run_action.isEnabled()
    view.close()


def test_stop_during_a_deploy_preset_stops_its_child_and_the_childs_server(window, gui_lab, monkeypatch) -> None:
    import psutil

    import engine.deploy_presets as deploy_presets

    _, loop = gui_lab
    long = dataclasses.replace(deploy_presets.DEPLOY_PRESETS["io-bound"], concurrency=10, requests=5000)
    monkeypatch.setitem(deploy_presets.DEPLOY_PRESETS, "io-bound", long)
    call_in_loop(loop, window.preset_actions["deploy:io-bound"].trigger)
    assert run_until(loop, lambda: window.series_child is not None, 30)
    child = psutil.Process(window.series_child.pid)

    def serving() -> list[psutil.Process]:  # the gunicorn master and workers the child started
        return [p for p in child.children(recursive=True) if "gunicorn" in " ".join(p.cmdline())]

    assert run_until(loop, lambda: len(serving()) >= 3, 90)
    servers = serving()

    def loaded() -> bool:  # the run's clients are connected to the workers: the load is going
        try:
            return any(c.status == psutil.CONN_ESTABLISHED for p in servers for c in p.net_connections("tcp"))
        except psutil.Error:
            return False

    assert run_until(loop, loaded, 60)
    run_until(loop, lambda: False, 1.0)
    assert window.stop_action.isEnabled()
    call_in_loop(loop, window.stop_action.trigger)
    assert run_until(loop, lambda: window.series_task.done(), 60)
    assert window.series_task.result() == []
    assert "Stopped during the first run" in window.statusBar().currentMessage()
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    assert run_until(loop, lambda: not any(p.is_running() for p in servers), 15), "the child stopped its server"
    assert not window.controller.busy and window.run_action.isEnabled()
