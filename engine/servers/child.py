"""A server in a child process serving the lab's site, its tracing streamed back into the run.

The lab listens on a loopback port (the *sink*) for the JSON lines the child's
``embedded_site.tracing.stream`` sends, and turns them back into the same ``ServerRequest``,
``LagSample`` and ``Stall`` objects the embedded server records, appended to the lab's
collector while a run records, so the run record, every view and every finding work as for
the embedded server.  Request ids and thread ids are per process in the child; here they
are renumbered for the run (a worker's event loop thread is the run's loop thread when it is
the first worker heard from; other workers' loops are lanes of their own).

A child that does not start, or exits while serving, is one line: its last line of output.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from embedded_site.tracing import collector
from embedded_site.tracing.spans import LagSample, ServerRequest, Span
from embedded_site.tracing.stream import SINK_ENV
from embedded_site.tracing.watchdog import Stall

from ..pgcluster import free_port
from ..phases import NO_LOOP
from ..server import HOST, ServerError
from . import ServerSpec, server_module

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


class _Renumber:
    """Request and thread ids of the children, renumbered for the current run."""

    def __init__(self) -> None:
        self.run: object = None
        self.threads: dict[tuple[int, int], int] = {}
        self.requests: dict[tuple[int, int], int] = {}
        self.loops: dict[int, int | None] = {}  # pid -> its loop's thread id in the child
        self.names: dict[tuple[int, int], str] = {}
        self.first_pid: int | None = None

    def check_run(self) -> None:
        if self.run is not collector.requests:  # Lab.run reset the collector: a new run
            self.run = collector.requests
            self.threads, self.requests = {}, {}

    def thread(self, pid: int, child_id: int) -> int:
        self.check_run()
        key = (pid, child_id)
        found = self.threads.get(key)
        if found is not None:
            return found
        is_loop = self.loops.get(pid) == child_id
        if is_loop and pid == self.first_pid:
            lab_id = 1
        else:
            lab_id = max([1, *self.threads.values()]) + 1
        self.threads[key] = lab_id
        name = self.names.get(key, f"thread {child_id}")
        if is_loop:
            name = "event loop (main thread)" if lab_id == 1 else f"event loop of worker {pid}"
        collector.thread_names[lab_id] = name
        return lab_id


class ChildServer:
    """``start()`` runs the server command and returns once it accepts connections."""

    def __init__(self, spec: ServerSpec, port: int = 0) -> None:
        self.spec = spec
        self.module = server_module(spec.name)
        self.requested_port = port
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=f"explorer-{spec.name}-", suffix=".log", delete=False)
        self._sink: asyncio.base_events.Server | None = None
        self._ids = _Renumber()
        self._stopping = False
        self.lines_received = 0
        self.workers_ready: set[int] = set()  # pids of the worker processes that said hello

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("the server is not running")
        return f"http://{HOST}:{self.port}"

    @property
    def loop_thread_id(self) -> int:
        """The run's loop lane: the first worker's event loop; under WSGI there is none
        (``NO_LOOP``: a blocking call there blocks its worker thread, not a loop)."""
        return 1 if self.module.INTERFACE == "asgi" else NO_LOOP

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the child and its workers."""
        import psutil

        if self.process is None:
            return 0.0
        try:
            root = psutil.Process(self.process.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def death(self) -> str | None:
        """Why the child is gone, if it exited while the lab still needed it; else None."""
        if self._stopping or self.process is None or self.process.poll() is None:
            return None
        return f"the {self.spec.name} server exited with status {self.process.returncode}: {self.last_line()}"

    def last_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [ln for ln in Path(self._log.name).read_text(errors="replace").splitlines() if ln.strip()]
            if lines:
                return lines[-1].strip()[:300]
        return "it printed nothing"

    async def start(self) -> None:
        self._sink = await asyncio.start_server(self._serve_sink, HOST, 0, limit=2**24)
        sink_port = self._sink.sockets[0].getsockname()[1]
        self.port = self.requested_port or free_port()
        argv = self.module.command(self.port, self.spec.workers, self.spec.threads)
        env = {
            **os.environ,
            SINK_ENV: f"{HOST}:{sink_port}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "PYTHONUNBUFFERED": "1",
        }
        try:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ServerError(f"the {self.spec.name} server could not be started: {exc.strerror or exc}") from None
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise ServerError(
                    f"the {self.spec.name} server did not start (exit status {self.process.returncode}): "
                    f"{self.last_line()}"
                )
            with contextlib.suppress(OSError, TimeoutError):
                if len(self.workers_ready) >= self.spec.workers and await self._answers():
                    return
            if time.monotonic() > deadline:
                await self.stop()
                raise ServerError(f"the {self.spec.name} server did not answer within {START_TIMEOUT_S:g} s")
            await asyncio.sleep(0.05)

    async def _answers(self) -> bool:
        """One real HTTP request to the site's index: the server is up and a worker answers."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            writer.write(f"GET / HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            return status.startswith(b"HTTP/1.1 ")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def stop(self) -> None:
        """SIGTERM the child's process group, SIGKILL it after 5 s; close the sink."""
        self._stopping = True
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)
        self.port = None

    async def settle(self, record: Any, timeout_s: float = 5.0) -> None:
        """Wait until the child has sent every request the client saw answered (or ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.running:
            answered = sum(1 for c in list(record.client) if c.status is not None)
            if len(record.server) >= answered:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.06)  # one more batch of lag samples

    async def _serve_sink(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                self.lines_received += 1
                self.take(json.loads(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def take(self, item: dict[str, Any]) -> None:
        """One line from a child, into the lab's collector (only while a run records)."""
        kind, pid = item["kind"], item["pid"]
        ids = self._ids
        if kind == "hello":
            self.workers_ready.add(pid)
            return
        if kind == "loop":
            ids.loops[pid] = item["loop_thread_id"]
            if ids.first_pid is None:
                ids.first_pid = pid
            return
        if kind == "thread":
            key = (pid, item["id"])
            ids.names[key] = item["name"]
            lab_id = ids.threads.get(key)
            if lab_id is not None and ids.loops.get(pid) != item["id"]:
                collector.thread_names[lab_id] = item["name"]
            return
        since = collector.recording_since_ns
        if not collector.recording:
            return
        if kind == "lag":
            if item["t_ns"] >= since:
                collector.lag.append(LagSample(item["t_ns"], item["lag_ns"]))
        elif kind == "stall":
            if item["end_ns"] >= since:
                places = [tuple(p) for p in item.get("places", [])]
                collector.stalls.append(Stall(item["start_ns"], item["end_ns"], item["samples"], places))
        elif kind == "request":
            if item["arrival_ns"] < since:
                return
            ids.check_run()
            spans = [
                Span(s["kind"], s["name"], s["start_ns"], s["end_ns"], ids.thread(pid, s["thread_id"]), s["error"])
                for s in item.pop("spans")
            ]
            child_id = item.pop("id")
            parent = item.pop("parent_id")
            item.pop("kind"), item.pop("pid")
            request = ServerRequest(
                id=collector.new_request_id(), spans=spans, parent_id=ids.requests.get((pid, parent)), **item
            )
            request.thread_id = ids.thread(pid, request.thread_id)
            ids.requests[(pid, child_id)] = request.id
            collector.requests.append(request)
