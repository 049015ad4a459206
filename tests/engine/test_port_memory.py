"""The window's site keeps its port between launches when it is free: real launches of
``main.py`` (offscreen), each asked over real HTTP at the port it remembered."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx

from engine.port_memory import PORT_FILE, remember_port, remembered_port

from .mainproc import main_env, start_main


def _launch_and_ask(tmp_path: Path) -> int:
    """Start the window, wait until it is ready, ask its site at the remembered port, quit it."""
    window = start_main([], main_env(tmp_path, EXPLORER_REPORT_READY="1"))
    try:
        ready = window.stdout.readline()
        assert ready.startswith("ready ") and ready.split()[-1] == "200", (ready, window.stderr.read())
        port = remembered_port(tmp_path / "data")
        assert port, (tmp_path / "data" / PORT_FILE).read_text()
        answer = httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=30)
        assert answer.status_code == 200 and "Django Async Explorer" in answer.text
        window.send_signal(signal.SIGTERM)
        _, err = window.communicate(timeout=60)
        assert window.returncode == 0, err
        return port
    finally:
        window.kill()


def test_a_second_launch_serves_on_the_same_port_and_a_taken_one_falls_back(tmp_path: Path) -> None:
    first = _launch_and_ask(tmp_path)
    assert _launch_and_ask(tmp_path) == first
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the last launch left TIME_WAITs
    try:
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        other = _launch_and_ask(tmp_path)
    finally:
        squatter.close()
    assert other != first  # started on a free port all the same, and remembers that one


def test_a_file_without_a_usable_port_is_ignored(tmp_path: Path) -> None:
    for text in ("", "banana", "80", "70000", "-1", "8000 8001", "\xff"):
        (tmp_path / PORT_FILE).write_text(text, encoding="latin-1")
        assert remembered_port(tmp_path) == 0, text
    remember_port(tmp_path, 8123)
    assert remembered_port(tmp_path) == 8123
