"""Stopping the app by a signal, or losing it to ``kill -9``, leaves nothing noisy behind.

Real processes of ``main.py`` and real signals: ``serve`` stopped with requests in flight
says so in one line; the window handles SIGTERM like File → Quit; the load driver's own
process exits quietly when the app that started it is killed.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.engine.mainproc import main_env, start_main


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_serve_stopped_with_requests_in_flight_says_so_in_one_line(tmp_path: Path) -> None:
    server = start_main(["serve", "--port", "0"], main_env(tmp_path))
    clients: list[socket.socket] = []
    try:
        banner = server.stdout.readline()
        port = int(re.search(r"127\.0\.0\.1:(\d+)/", banner).group(1))
        for _ in range(17):
            path = "/demo/async-sleep/?delay=10"
            client = socket.create_connection(("127.0.0.1", port), timeout=30)
            client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            clients.append(client)
        time.sleep(1.5)  # every request has reached its view
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    finally:
        server.kill()
        for client in clients:
            client.close()
    print(err)
    assert server.returncode == 0
    assert "Traceback" not in err and "Exception in ASGI application" not in err
    assert err.strip().splitlines() == ["stopped with 17 requests in flight; they were cancelled"]
    assert out.strip().endswith("Stopped.")


def test_load_driver_exits_quietly_when_the_app_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of ``main.py run`` mid-run: its load-driver process (which shares the
    app's stderr) notices its pipe closing, exits within seconds and prints nothing."""
    args = ["run", "async-sleep", "-c", "20", "-n", "400", "--param", "delay=1", "--port", "0", "--loop", "asyncio"]
    app = start_main(args, main_env(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not _children(app.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (driver,) = _children(app.pid)
        time.sleep(2.5)  # the run is under way: 20 requests in flight
        assert app.poll() is None, app.stderr.read()
        app.kill()
        t0 = time.monotonic()
        err = app.stderr.read()  # ends when the driver, the last writer, has closed it
        exited_after = time.monotonic() - t0
        app.wait(timeout=10)
        while _alive(driver) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
    finally:
        app.kill()
    print(f"driver gone {exited_after:.2f} s after kill -9; stderr {err!r}")
    assert not _alive(driver)
    assert exited_after < 10
    assert err == ""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_window_quits_on_a_signal_like_file_quit(signum: int, tmp_path: Path) -> None:
    """SIGTERM (or Ctrl-C) to the window closes it through its own Quit path: exit 0, no
    traceback, the window's settings saved (done by its close), its load driver gone."""
    config = tmp_path / "config"
    env = main_env(tmp_path, EXPLORER_REPORT_READY="1", XDG_CONFIG_HOME=str(config))
    window = start_main([], env)
    try:
        ready = window.stdout.readline()
        assert ready.startswith("ready ") and ready.split()[-1] == "200", (ready, window.stderr.read())
        children = _children(window.pid)
        assert children  # the load driver's process, started with the lab
        sent = time.monotonic()
        window.send_signal(signum)
        out, err = window.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        window.kill()
    print(f"window exited {window.returncode} {took:.2f} s after signal {signum}; stderr {err!r}")
    assert window.returncode == 0, err
    assert "Traceback" not in err
    assert list(config.rglob("*.conf")), "closing the window saves its settings; it was not closed"
    assert not [pid for pid in children if _alive(pid)]
