"""The load driver's own process: sends a run's HTTP requests and reports their timings.

Why a process: the server, the window and any in-process client would share one GIL, so
every microsecond the client spends building and parsing requests would be taken from
the server and show up as server latency and loop lag.  Here the client has its own
interpreter (and, on a two-core machine, its own core).  It speaks HTTP/1.1 with h11 (the
protocol engine under httpx and uvicorn) directly over asyncio streams, one keep-alive
connection per virtual user, so it is not the thing that limits a run.

Both processes read ``time.perf_counter_ns()``, which on Linux is CLOCK_MONOTONIC, one clock
for the whole machine, so client and server timestamps line up without conversion.

Protocol on stdin/stdout: length-prefixed pickles.  In: ``("run", run_id, host, port,
streams)``, ``("stop", run_id)``, ``("quit",)``.  Out: ``("update", run_id, [row, ...])``
batches (a row is ``ROW_FIELDS``) and ``("finished", run_id, error_or_None)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

import h11

now_ns = time.perf_counter_ns
ROW_FIELDS = (
    "id",
    "stream",
    "demo",
    "url",
    "intended_ns",
    "sent_ns",
    "first_byte_ns",
    "done_ns",
    "status",
    "bytes",
    "error",
)
CANCELLED = "stopped before it finished"
DEFAULT_TIMEOUT_S = 120.0
FLUSH_INTERVAL_S = 0.02
_HEADER = struct.Struct("!I")


def write_message(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_message(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


class _Row:
    __slots__ = ROW_FIELDS

    def __init__(self, id: int, stream: int, demo: str, url: str, intended_ns: int) -> None:
        self.id, self.stream, self.demo, self.url, self.intended_ns = id, stream, demo, url, intended_ns
        self.sent_ns = self.first_byte_ns = self.done_ns = self.status = self.error = None
        self.bytes = 0

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f) for f in ROW_FIELDS)


class _Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server or a timeout closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.h11: h11.Connection | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = self.h11 = None

    async def request(
        self, target: str, request_id: int, row: _Row, method: str = "GET", extra: Sequence[tuple[str, str]] = ()
    ) -> None:
        # A keep-alive connection the server closed while it sat idle (its keep-alive
        # timeout) has seen EOF: reconnect rather than fail the request on it.
        stale = self.reader is None or self.reader.at_eof()
        if stale or self.writer is None or self.h11 is None or self.h11.our_state is not h11.IDLE:
            self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.h11 = h11.Connection(h11.CLIENT)
        conn, reader, writer = self.h11, self.reader, self.writer
        headers = [("host", f"{self.host}:{self.port}"), ("x-explorer-id", str(request_id)), ("accept", "*/*")]
        headers += [*extra, *([("content-length", "0")] if method != "GET" else [])]
        data = conn.send(h11.Request(method=method, target=target, headers=headers))
        data += conn.send(h11.EndOfMessage())
        row.sent_ns = now_ns()
        writer.write(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await reader.read(65536)
                if row.first_byte_ns is None:
                    row.first_byte_ns = now_ns()
                conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                row.status = event.status_code
            elif isinstance(event, h11.Data):
                row.bytes += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection")
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            self.close()


class _Run:
    def __init__(self, run_id: int, host: str, port: int, streams: list[dict], out: BinaryIO) -> None:
        self.run_id, self.host, self.port, self.streams, self.out = run_id, host, port, streams, out
        self.dirty: dict[int, _Row] = {}
        self.rows: list[_Row] = []
        self.next_id = 0

    def _new_row(self, index: int, stream: dict, intended_ns: int) -> _Row:
        self.next_id += 1
        row = _Row(self.next_id, index, stream["demo"], stream["url"], intended_ns)
        self.dirty[row.id] = row
        self.rows.append(row)
        return row

    def flush(self) -> None:
        if self.dirty:
            rows, self.dirty = [r.as_tuple() for r in self.dirty.values()], {}
            _report(self.out, ("update", self.run_id, rows))

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self.flush()

    async def main(self) -> None:
        flusher = asyncio.create_task(self._flusher())
        start = now_ns()
        try:
            async with asyncio.TaskGroup() as group:
                for index, stream in enumerate(self.streams):
                    group.create_task(self._stream(index, stream, start))
        finally:
            flusher.cancel()
            stopped = now_ns()
            for row in self.rows:  # e.g. still waiting for a free connection when stopped
                if row.done_ns is None:
                    row.error, row.done_ns = row.error or CANCELLED, stopped
                    self.dirty[row.id] = row
            self.flush()

    async def _stream(self, index: int, stream: dict, run_start_ns: int) -> None:
        await _sleep_until(run_start_ns + int(stream["start_s"] * 1e9))
        connections = [_Connection(self.host, self.port) for _ in range(stream["concurrency"])]
        try:
            if stream["rate"] is not None:
                await self._open_loop(index, stream, connections)
            else:
                await self._closed_loop(index, stream, connections)
        finally:
            for connection in connections:
                connection.close()

    async def _closed_loop(self, index: int, stream: dict, connections: list[_Connection]) -> None:
        total, duration = stream["requests"], stream["duration_s"]
        deadline = now_ns() + int(duration * 1e9) if duration is not None else None
        issued = 0

        async def virtual_user(connection: _Connection) -> None:
            nonlocal issued
            while (total is None or issued < total) and (deadline is None or now_ns() < deadline):
                issued += 1
                await self._send(connection, self._new_row(index, stream, now_ns()), stream)

        async with asyncio.TaskGroup() as group:
            for connection in connections:
                group.create_task(virtual_user(connection))

    async def _open_loop(self, index: int, stream: dict, connections: list[_Connection]) -> None:
        count = stream["requests"] or max(1, round(stream["rate"] * stream["duration_s"]))
        interval_ns = 1e9 / stream["rate"]
        free: asyncio.Queue[_Connection] = asyncio.Queue()
        for connection in connections:
            free.put_nowait(connection)
        start = now_ns()

        async def one(row: _Row) -> None:
            connection = await free.get()  # waiting for a free connection counts as latency
            try:
                await self._send(connection, row, stream)
            finally:
                free.put_nowait(connection)

        async with asyncio.TaskGroup() as group:
            for i in range(count):
                intended = start + int(i * interval_ns)
                await _sleep_until(intended)
                group.create_task(one(self._new_row(index, stream, intended)))

    async def _send(self, connection: _Connection, row: _Row, stream: dict) -> None:
        limit = stream["client_timeout_s"] or DEFAULT_TIMEOUT_S
        self.dirty[row.id] = row
        try:
            async with asyncio.timeout(limit):
                await connection.request(stream["target"], row.id, row, stream["method"], stream["headers"])
        except TimeoutError:
            connection.close()  # the server sees the client go away
            row.error = f"client gave up after {limit:g} s (timeout)"
        except asyncio.CancelledError:
            connection.close()
            row.error = CANCELLED
            raise
        except (OSError, h11.ProtocolError) as exc:
            connection.close()
            row.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            row.done_ns = now_ns()
            self.dirty[row.id] = row


async def _sleep_until(target_ns: int) -> None:
    delay = target_ns - now_ns()
    if delay > 0:
        await asyncio.sleep(delay / 1e9)


def _execute(run: _Run, lock: threading.Lock, current: dict[str, Any], commands: list[Any]) -> str | None:
    """Run one run on a fresh loop; a ``stop`` cancels it.  Returns an error text or None."""

    async def main() -> None:
        with lock:
            current["loop"], current["task"] = asyncio.get_running_loop(), asyncio.current_task()
            current["run_id"] = run.run_id
            stop_now = any(c[0] == "quit" or c == ("stop", run.run_id) for c in commands)
        if not stop_now:
            await run.main()

    try:
        asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt):
        pass
    except BaseException as exc:  # noqa: BLE001 - reported to the app, which shows it
        return f"{type(exc).__name__}: {exc}"
    finally:
        with lock:
            current.clear()
            commands[:] = [c for c in commands if c[0] == "quit"]
    return None


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Run requests as told on ``inp`` until ``quit`` or end of input."""
    lock = threading.Lock()
    current: dict[str, Any] = {}
    commands: list[Any] = []
    ready = threading.Condition(lock)

    def read_commands() -> None:
        while True:
            try:
                message = read_message(inp)
            except (EOFError, OSError):
                message = ("quit",)
            with lock:
                aimed = message[0] == "quit" or (message[0] == "stop" and message[1] == current.get("run_id"))
                if aimed and current.get("task") is not None:
                    loop, task = current["loop"], current["task"]
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(task.cancel)
                commands.append(message)
                ready.notify()
            if message[0] == "quit":
                return

    threading.Thread(target=read_commands, name="driver-commands", daemon=True).start()
    while True:
        with lock:
            while not commands:
                ready.wait()
            message = commands.pop(0)
        if message[0] == "quit":
            return
        if message[0] != "run":
            continue
        _, run_id, host, port, streams = message
        run = _Run(run_id, host, port, streams, out)
        error = _execute(run, lock, current, commands)
        run.flush()
        _report(out, ("finished", run_id, error))


def _report(out: BinaryIO, message: Any) -> None:
    """Send a report to the app; if the app is gone, leave at once and without a word.

    The app reads our stdout until it exits, so a broken pipe means it died (``kill -9``,
    a crash): nobody is left to read the results or a traceback about them. ``os._exit``
    skips the interpreter's final flush of that same pipe, which would print one more.
    """
    try:
        write_message(out, message)
    except OSError:
        os._exit(0)


def main() -> None:
    """The child's entry point: the app owns Ctrl-C and tells us to stop.

    The child shares the terminal's process group, so Ctrl-C reaches it too; dying of it
    would lose the rows not yet reported and print a KeyboardInterrupt traceback. The app
    sends ``stop``/``quit`` instead, and end of input (the app died) quits as well.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
