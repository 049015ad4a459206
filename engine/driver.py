"""The app's side of the load driver: starts the client process, hands it a run, and turns
its reports into live ``ClientRequest`` records.

The requests themselves are sent by ``engine.clientproc`` in a process of its own (see there
for why).  One process serves every run of a lab, so a run starts without paying for a
Python start-up.  A reader thread applies the process's batched reports (every 20 ms) to
the run record, which the window may read at any time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .clientproc import CANCELLED, ROW_FIELDS, read_message, write_message
from .config import Stream
from .record import ClientRequest

now_ns = time.perf_counter_ns
ROOT = Path(__file__).resolve().parent.parent

__all__ = ["CANCELLED", "ClientProcess", "LoadDriver", "Target", "now_ns"]


@dataclass(frozen=True)
class Target:
    """A stream, resolved to the URL its requests go to, with the method and any extra headers they carry."""

    stream: Stream
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()


class ClientProcess:
    """The long-lived client process and the thread that reads its reports."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "engine.clientproc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        self._lock = threading.Lock()
        self._runs: dict[int, LoadDriver] = {}
        self._next_run = 0
        self._reader = threading.Thread(target=self._read, name="explorer-driver-reports", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def submit(self, driver: LoadDriver, host: str, port: int, streams: list[dict]) -> int:
        with self._lock:
            self._next_run += 1
            run_id = self._next_run
            self._runs[run_id] = driver
            write_message(self._proc.stdin, ("run", run_id, host, port, streams))
        return run_id

    def stop(self, run_id: int) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            write_message(self._proc.stdin, ("stop", run_id))

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            write_message(self._proc.stdin, ("quit",))
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)

    def _read(self) -> None:
        stdout = self._proc.stdout
        while True:
            try:
                message = read_message(stdout)
            except (EOFError, OSError, ValueError):
                break
            kind, run_id = message[0], message[1]
            driver = self._runs.get(run_id)
            if driver is None:
                continue
            if kind == "update":
                driver._apply(message[2])
            elif kind == "finished":
                with self._lock:
                    self._runs.pop(run_id, None)
                driver._finish(message[2])
        # The process is gone: every run still waiting on it has ended.
        with self._lock:
            orphans, self._runs = list(self._runs.values()), {}
        if orphans:
            why = self._how_it_ended()
            for driver in orphans:
                driver._finish(why)

    def _how_it_ended(self) -> str:
        """The sentence for a process that went away mid-run: killed by which signal, or its status."""
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the load driver stopped reporting"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown"
            return f"the load driver died (signal {-code}, {name})"
        return f"the load driver exited unexpectedly (status {code})"


class LoadDriver:
    """One run's requests, sent by a ClientProcess; ``records`` fills in live."""

    def __init__(
        self,
        targets: Sequence[Target],
        records: list[ClientRequest] | None = None,
        on_finished: Callable[[], None] | None = None,
        process: ClientProcess | None = None,
    ) -> None:
        self.targets = list(targets)
        self.records: list[ClientRequest] = records if records is not None else []
        self.on_finished = on_finished  # called on a driver thread when the run is over
        self.completed = 0
        self.error: str | None = None
        self.finished = threading.Event()
        self.finished_ns: int | None = None  # when the run ended, as the app heard it
        self._by_id: dict[int, ClientRequest] = {}
        self._own_process = process is None
        self._process = process
        self._run_id: int | None = None

    def start(self) -> None:
        if self._process is None:
            self._process = ClientProcess()
        first = urlsplit(self.targets[0].url)
        streams = []
        for target in self.targets:
            url = urlsplit(target.url)
            s = target.stream
            streams.append(
                {
                    "demo": s.demo,
                    "url": target.url,
                    "target": url.path + (f"?{url.query}" if url.query else ""),
                    "method": target.method,
                    "headers": list(target.headers),
                    "concurrency": s.concurrency,
                    "requests": s.requests,
                    "duration_s": s.duration_s,
                    "rate": s.rate,
                    "start_s": s.start_s,
                    "client_timeout_s": s.client_timeout_s,
                }
            )
        self._run_id = self._process.submit(self, first.hostname or "127.0.0.1", first.port or 80, streams)

    def stop(self) -> None:
        """Cancel what is in flight and send nothing more; what was measured is kept."""
        if self._process is not None and self._run_id is not None and not self.finished.is_set():
            self._process.stop(self._run_id)

    def join(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def _apply(self, rows: list[tuple]) -> None:
        for row in rows:
            values = dict(zip(ROW_FIELDS, row))
            record = self._by_id.get(values["id"])
            if record is None:
                record = ClientRequest(**values)
                self._by_id[record.id] = record
                self.records.append(record)
                if record.done_ns is not None:
                    self.completed += 1
                continue
            was_done = record.done_ns is not None
            for name in ("sent_ns", "first_byte_ns", "done_ns", "status", "bytes", "error"):
                setattr(record, name, values[name])
            if not was_done and record.done_ns is not None:
                self.completed += 1

    def _finish(self, error: str | None) -> None:
        self.error, self.finished_ns = error, now_ns()
        if self._own_process and self._process is not None:
            threading.Thread(target=self._process.close, daemon=True).start()
        self.finished.set()
        if self.on_finished is not None:
            with contextlib.suppress(RuntimeError):  # the caller's loop may be closed already
                self.on_finished()
