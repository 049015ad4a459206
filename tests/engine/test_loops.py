"""The three loop kinds behave like asyncio where the app depends on it, on a real (offscreen) Qt.

Timing bounds are deliberately loose except for sleep accuracy, which the app measures
and so must be within a few milliseconds on the Qt-driven kinds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from engine import loops

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the QApplication is made, not at import
QT_KINDS = ("qt", "qasync")
ALL_KINDS = loops.LOOP_KINDS


@pytest.fixture(autouse=True)
def _qt_app(qapp: Any) -> Any:
    # pytest-qt's QApplication, so GUI tests in the same session find the right kind of
    # application; the loops reuse it (ensure_qt_app returns an existing instance).
    return qapp


def _ms_since(t0_ns: int) -> float:
    return (time.perf_counter_ns() - t0_ns) / 1e6


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_sleep_is_accurate(kind: str) -> None:
    async def main() -> list[float]:
        errors = []
        for _ in range(3):
            t0 = time.perf_counter_ns()
            await asyncio.sleep(0.3)
            errors.append(_ms_since(t0) - 300.0)
        return errors

    errors = loops.run(main(), kind)
    print(f"{kind}: sleep(0.3) error ms {[round(e, 2) for e in errors]}")
    assert all(-1.0 < e < 15.0 for e in errors), errors


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_call_soon_runs_in_order(kind: str) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        seen: list[int] = []
        done = loop.create_future()
        for i in range(200):
            loop.call_soon(seen.append, i)
        loop.call_soon(done.set_result, None)
        await done
        return seen

    assert loops.run(main(), kind) == list(range(200))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_call_soon_threadsafe_wakes_an_idle_loop(kind: str) -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        delays = []
        for _ in range(5):
            fut = loop.create_future()

            def poke(fut: asyncio.Future[int] = fut) -> None:
                time.sleep(0.05)
                loop.call_soon_threadsafe(fut.set_result, time.perf_counter_ns())

            thread = threading.Thread(target=poke)
            thread.start()
            sent = await asyncio.wait_for(fut, 5)
            delays.append(_ms_since(sent))
            thread.join()
        return delays

    delays = loops.run(main(), kind)
    assert max(delays) < 50, delays


@pytest.mark.parametrize("kind", QT_KINDS)
def test_calls_from_qt_slots_wake_the_loop(kind: str) -> None:
    """call_soon/call_later/stop made by a Qt slot, outside any asyncio callback, are honoured promptly."""
    from PySide6.QtCore import QTimer

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        soon = loop.create_future()
        later = loop.create_future()
        t0 = time.perf_counter_ns()
        QTimer.singleShot(20, lambda: loop.call_soon(soon.set_result, time.perf_counter_ns()))
        QTimer.singleShot(20, lambda: loop.call_later(0.1, later.set_result, time.perf_counter_ns()))
        soon_lag = _ms_since(await asyncio.wait_for(soon, 5))
        await asyncio.wait_for(later, 5)
        return soon_lag, _ms_since(t0)

    soon_lag, later_total = loops.run(main(), kind)
    assert soon_lag < 50
    assert 115 < later_total < 200  # 20 ms Qt timer + 100 ms call_later

    loop = loops.new_loop(kind)
    try:
        QTimer.singleShot(30, loop.stop)
        t0 = time.perf_counter_ns()
        loop.run_forever()
        assert _ms_since(t0) < 1000
    finally:
        loop.close()


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_tcp_echo_over_loopback(kind: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main() -> bytes:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = os.urandom(256 * 1024)
        writer.write(payload)
        await writer.drain()
        echoed = await asyncio.wait_for(reader.readexactly(len(payload)), 10)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return echoed == payload

    assert loops.run(main(), kind) is True


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_cancelled_call_later_leaves_nothing_behind(kind: str) -> None:
    from PySide6.QtCore import QTimer

    def live_qtimers() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, QTimer))

    async def main() -> tuple[list[int], int, int]:
        loop = asyncio.get_running_loop()
        fired: list[int] = []
        before = live_qtimers()
        handles = [loop.call_later(0.02 + i / 10000, fired.append, i) for i in range(1000)]
        for h in handles:
            h.cancel()
        await asyncio.sleep(0.2)
        scheduled = len(getattr(loop, "_scheduled", []))
        return fired, live_qtimers() - before, scheduled

    fired, extra_timers, scheduled = loops.run(main(), kind)
    assert fired == []
    assert extra_timers == 0
    if kind != "qasync":  # qasync keeps no asyncio heap; its Qt timers die as they fire
        assert scheduled == 0


def test_qt_loop_uses_one_deadline_timer() -> None:
    """Pending call_later handles share one Qt timer, which is disarmed once they are all cancelled."""
    from PySide6.QtCore import QTimer

    async def probe(loop: asyncio.AbstractEventLoop) -> tuple[bool, int]:
        # Read the state from a Qt slot, i.e. between ticks, when the timers are (re)armed.
        result = loop.create_future()
        QTimer.singleShot(20, lambda: result.set_result((loop._deadline_timer.isActive(), len(loop._scheduled))))
        return await result

    async def main() -> tuple[tuple[bool, int], tuple[bool, int]]:
        loop = asyncio.get_running_loop()
        handles = [loop.call_later(0.1 + i / 1000, lambda: None) for i in range(100)]
        pending = await probe(loop)
        for h in handles:
            h.cancel()
        await asyncio.sleep(0.3)
        return pending, await probe(loop)

    pending, after = loops.run(main(), "qt")
    assert pending == (True, 100)
    assert after == (False, 0)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_exceptions_propagate_out_of_run(kind: str) -> None:
    async def main() -> None:
        await asyncio.sleep(0.01)
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        loops.run(main(), kind)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_run_returns_the_result(kind: str) -> None:
    async def main() -> str:
        await asyncio.sleep(0)
        return "done"

    assert loops.run(main(), kind) == "done"


@pytest.mark.parametrize("kind", QT_KINDS)
def test_qt_timers_fire_while_the_loop_runs(kind: str) -> None:
    from PySide6.QtCore import QTimer

    async def main() -> int:
        loop = asyncio.get_running_loop()
        ticks: list[int] = []
        done = loop.create_future()

        def on_timeout() -> None:
            ticks.append(1)
            if len(ticks) == 5 and not done.done():
                done.set_result(None)

        timer = QTimer()
        timer.timeout.connect(on_timeout)
        timer.start(10)
        try:
            await asyncio.wait_for(done, 5)
        finally:
            timer.stop()
        return len(ticks)

    assert loops.run(main(), kind) >= 5


def test_widgets_repaint_on_the_qt_loop() -> None:
    from PySide6.QtWidgets import QWidget

    class Counting(QWidget):
        paints = 0

        def paintEvent(self, event: Any) -> None:
            Counting.paints += 1

    async def main() -> int:
        widget = Counting()
        widget.resize(100, 100)
        widget.show()
        await asyncio.sleep(0.1)
        first = Counting.paints
        widget.update()
        await asyncio.sleep(0.1)
        widget.close()
        return Counting.paints - first

    assert loops.run(main(), "qt", gui=True) >= 1
    assert Counting.paints >= 2


def test_qt_loop_nests_inside_a_running_qt_event_loop() -> None:
    """The GUI may start asyncio from inside Qt's own running loop; both must work."""
    from PySide6.QtCore import QEventLoop, QTimer

    outer = QEventLoop()
    results: list[Any] = []

    async def main() -> str:
        await asyncio.sleep(0.05)
        return "inner"

    def start() -> None:
        try:
            results.append(loops.run(main(), "qt"))
        finally:
            outer.quit()

    QTimer.singleShot(0, start)
    QTimer.singleShot(5000, outer.quit)  # a safety net, never the normal way out
    outer.exec()
    assert results == ["inner"]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_add_signal_handler_runs_the_callback(kind: str) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, lambda: got.done() or got.set_result(signal.SIGUSR1))
        try:
            await asyncio.sleep(0.02)
            os.kill(os.getpid(), signal.SIGUSR1)
            return await asyncio.wait_for(got, 5)
        finally:
            loop.remove_signal_handler(signal.SIGUSR1)

    assert loops.run(main(), kind) == signal.SIGUSR1


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_sigterm_cancels_main_and_run_returns_none(kind: str) -> None:
    cleaned: list[str] = []

    async def main() -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        try:
            await asyncio.sleep(30)
            return "not interrupted"
        finally:
            await asyncio.sleep(0.01)  # graceful shutdown may await
            cleaned.append("finally")

    info = loops.RunInfo()
    t0 = time.perf_counter_ns()
    assert loops.run(main(), kind, info=info) is None
    assert _ms_since(t0) < 5000
    assert info.signal == signal.SIGTERM and info.interrupted
    assert cleaned == ["finally"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_run_leaves_no_tasks_and_no_threads(kind: str) -> None:
    threads_before = threading.active_count()
    leftovers: list[asyncio.Task[Any]] = []
    stopped: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.append("forever")

    async def main() -> int:
        loop = asyncio.get_running_loop()
        leftovers.append(asyncio.create_task(forever()))
        return await loop.run_in_executor(None, sum, [1, 2, 3])

    assert loops.run(main(), kind) == 6
    assert stopped == ["forever"]
    assert all(t.done() for t in leftovers)
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == threads_before, threading.enumerate()


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown event loop kind 'uvloop'.*qt, qasync, asyncio"):
        loops.new_loop("uvloop")


def test_closed_qt_loop_releases_its_qt_objects() -> None:
    loop = loops.new_loop("qt")
    loop.run_until_complete(asyncio.sleep(0.01))
    assert loop._notifier is not None
    loop.close()
    assert loop._notifier is None and loop._deadline_timer is None and loop._soon_timer is None
    with pytest.raises(RuntimeError, match="closed"):
        loop.run_forever()


# -- uvicorn on the Qt loop ---------------------------------------------------------


async def _hello_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = f"hello {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_uvicorn_serves_on_the_loop(kind: str) -> None:
    import httpx
    import uvicorn

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the host application owns the signals

    async def main() -> list[int]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = QuietServer(uvicorn.Config(_hello_app, lifespan="off", http="h11", log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            assert not serving.done(), serving
            await asyncio.sleep(0.01)

        statuses: list[int] = []
        queue = list(range(200))
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False, limits=limits) as client:

            async def worker() -> None:
                while queue:
                    i = queue.pop()
                    response = await client.get(f"/n/{i}")
                    assert response.text == f"hello /n/{i}"
                    statuses.append(response.status_code)

            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(20))), 60)
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        sock.close()
        return statuses

    statuses = loops.run(main(), kind)
    assert statuses == [200] * 200


def test_base_exceptions_from_callbacks_leave_the_qt_loop_usable() -> None:
    """A KeyboardInterrupt raised by a callback escapes run_until_complete, as on plain asyncio."""

    def interrupt() -> None:
        raise KeyboardInterrupt

    loop = loops.new_loop("qt")
    try:
        loop.call_later(0.01, interrupt)
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.sleep(5))
        assert not loop.is_running()
        assert loop.run_until_complete(asyncio.sleep(0.01, "again")) == "again"
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


# -- signals wake the Qt loop at once -----------------------------------------------

_IDLE_CHILD = """
import asyncio, os, sys, time
from engine import loops
loops.ensure_qt_app(False)
from engine.qtloop import QtSelectorEventLoop

async def idle():
    print("ready", flush=True)
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        print("cancelled", time.perf_counter_ns(), flush=True)
        raise

try:
    if sys.argv[1] == "asyncio.run":
        asyncio.run(idle(), loop_factory=QtSelectorEventLoop)
    else:
        QtSelectorEventLoop().run_until_complete(idle())
except KeyboardInterrupt:
    print("interrupted", time.perf_counter_ns(), flush=True)
"""


@pytest.mark.parametrize("how", ["asyncio.run", "run_until_complete"])
def test_sigint_wakes_an_idle_qt_loop_at_once(how: str) -> None:
    """Ctrl-C reaches a Qt loop idling in a 30 s sleep within half a second, as on plain asyncio
    (without the wakeup fd it waited for the sleep to end; with Python's default handler it crashed)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _IDLE_CHILD, how],
        cwd=root,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # let it settle into Qt's wait
        sent = time.perf_counter_ns()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        child.kill()
    handled = {line.split()[0]: (int(line.split()[1]) - sent) / 1e6 for line in out.split("\n") if line.strip()}
    print(f"{how}: handled after {handled} ms")
    assert child.returncode == 0, err
    assert "interrupted" in handled, (out, err)
    assert handled["interrupted"] < 500
    if how == "asyncio.run":
        assert handled["cancelled"] < 500  # asyncio.run cancels the main task first, then raises
    assert "Traceback" not in err, err


def test_qt_loop_gives_the_wakeup_fd_back() -> None:
    loop = loops.new_loop("qt")
    try:
        loop.run_until_complete(asyncio.sleep(0))
        assert signal.set_wakeup_fd(-1) == -1
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        loop.close()


# -- debug mode ---------------------------------------------------------------------


def test_debug_mode_source_traceback_points_at_the_caller() -> None:
    """asyncio's "created at" (a handle's _source_traceback) names this file, not engine/qtloop.py
    (the behaviour of CPython's test_handle_source_traceback)."""
    loop = loops.new_loop("qt")
    loop.set_debug(True)
    try:
        handles = {
            "call_soon": loop.call_soon(lambda: None),
            "call_later": loop.call_later(1, lambda: None),
            "call_at": loop.call_at(loop.time() + 1, lambda: None),
            "call_soon_threadsafe": loop.call_soon_threadsafe(lambda: None),
        }
        for name, handle in handles.items():
            filename, _, function = handle._source_traceback[-1][:3]
            assert (filename, function) == (__file__, "test_debug_mode_source_traceback_points_at_the_caller"), name
            handle.cancel()
    finally:
        loop.close()


# -- timers never fire early and take any delay ---------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_sleep_never_ends_early(kind: str) -> None:
    """300 short sleeps of uneven length: none ends before its delay (qasync's int() rounding
    used to end 4 in 10 of them up to a millisecond early)."""
    import random

    delays = [random.Random(i).uniform(0.0002, 0.004) for i in range(300)]

    async def main() -> list[float]:
        early = []
        for delay in delays:
            t0 = time.perf_counter_ns()
            await asyncio.sleep(delay)
            early.append(delay * 1000 - _ms_since(t0))
        return early

    early = loops.run(main(), kind)
    worst = max(early)
    print(f"{kind}: worst sleep end {worst:.3f} ms before its delay (negative: after)")
    assert sum(e > 0.001 for e in early) == 0, sorted(early)[-5:]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_call_later_takes_a_forty_day_delay(kind: str) -> None:
    """A delay beyond Qt's 32-bit millisecond timer (about 25 days) is accepted, stays pending
    and can be cancelled; the loop keeps serving shorter timers meanwhile."""

    async def main() -> tuple[bool, str]:
        loop = asyncio.get_running_loop()
        fired: list[str] = []
        far = loop.call_later(40 * 24 * 3600, fired.append, "far")
        far_at = loop.call_at(loop.time() + 40 * 24 * 3600, fired.append, "far_at")
        result = await asyncio.sleep(0.05, "near")
        far.cancel()
        far_at.cancel()
        await asyncio.sleep(0.02)
        return bool(fired), result

    assert loops.run(main(), kind) == (False, "near")


def test_closed_qasync_loop_leaves_no_qt_timer_armed() -> None:
    """qasync kills a timer only when it fires; a closed loop's far-off timers (a day away,
    re-armed) must not outlive it in Qt's dispatcher."""
    from PySide6.QtCore import QAbstractEventDispatcher

    seen: list[Any] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        seen.append(loop)
        loop.call_later(40 * 24 * 3600, lambda: None)
        loop.call_later(3600, lambda: None)
        await asyncio.sleep(0.01)

    loops.run(main(), "qasync")
    timer = seen[0]._timer
    assert QAbstractEventDispatcher.instance().registeredTimers(timer) == []
