"""The lab: the embedded site, its server, and one run at a time.

Both the terminal (``python main.py run``) and the window drive a Lab.  ``prepare()``
does the synchronous database work and must be called before the event loop starts;
everything else runs on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import sys
from collections.abc import Callable

import django
import uvicorn

from embedded_site.bootstrap import asgi_application, prepare_database, setup_django
from embedded_site.tracing import collector, loop_activity
from embedded_site.tracing.heartbeat import HEARTBEAT_PERIOD_S

from . import pgactivity, servers
from .config import MAX_DURATION_S, ConfigError, RunConfig
from .driver import ClientProcess, LoadDriver, now_ns
from .gcpolicy import no_full_collections
from .plan import catalogue
from .port_memory import remember_port, remembered_port
from .record import RunRecord
from .server import EmbeddedServer, ServerError
from .servers import ServerSpec
from .servers.child import ChildServer
from .targets import app_target


def child_cannot_serve(config: RunConfig, spec: ServerSpec) -> str | None:
    """Why the server ``spec`` cannot serve ``config`` (None: it can).  A playground view is
    mounted in the lab's own process; a child server serves only the site it loaded at its
    start, so it would answer that view's URL with 404s."""
    if spec.name == servers.EMBEDDED:
        return None
    mounted = sorted({s.demo for s in config.streams if s.demo.startswith("playground:")})
    if not mounted:
        return None
    return (
        f"{', '.join(mounted)} is mounted in the lab's own process, which {spec.name} in a child process "
        "does not serve: run it on the embedded server"
    )


class RunInProgress(RuntimeError):
    pass


def versions(loop_kind: str) -> dict[str, str]:
    found = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "uvicorn": uvicorn.__version__,
        "loop": loop_kind,
    }
    if "PySide6" in sys.modules:
        import PySide6.QtCore

        found["qt"] = PySide6.QtCore.qVersion()
        found["pyside6"] = PySide6.__version__
    return found


# However a run was planned, it ends by then: closed loops counted in requests have no
# schedule to check in advance, and a hung server must not hold a run (or the window) forever.
# A little past the longest plan, so a 600 s run's last responses can still arrive.
RUN_TIME_LIMIT_S = MAX_DURATION_S + 10.0


class Lab:
    def __init__(
        self, port: int = 0, loop_kind: str = "qt", server: ServerSpec | None = None, *, keep_port: bool = False
    ) -> None:
        self.loop_kind = loop_kind
        self.server_spec = server if server is not None else servers.selected()
        # Ask for the last launch's port again (the window's site: a bookmark keeps working).
        self.keep_port = keep_port
        self.run_time_limit_s = RUN_TIME_LIMIT_S
        self.server: EmbeddedServer | ChildServer | None = None
        self.requested_port = port
        self.current: RunRecord | None = None
        self._driver: LoadDriver | None = None
        self._client: ClientProcess | None = None

    @staticmethod
    def prepare() -> None:
        """Configure Django, migrate and seed: synchronous, so before the loop runs."""
        setup_django()
        prepare_database()

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the lab first"
        return self.server.url

    async def start(self) -> None:
        setup_django()
        if self.server_spec.name != servers.EMBEDDED:
            # The same site in a child process, its tracing streamed back (engine.servers.child).
            self.server = ChildServer(self.server_spec, self.requested_port)
            await self.server.start()
            self._ensure_client()
            return
        port = self.requested_port
        data_dir = None
        if self.keep_port and port == 0:
            from django.conf import settings

            data_dir = settings.DATA_DIR
            port = remembered_port(data_dir)
        app = asgi_application()
        self.server = EmbeddedServer(app, port)
        try:
            await self.server.start()
        except ServerError:
            if port == self.requested_port:
                raise
            self.server = EmbeddedServer(app, self.requested_port)  # taken now: any free one
            await self.server.start()
        if data_dir is not None and self.server.port is not None:
            remember_port(data_dir, self.server.port)
        self._ensure_client()

    def _ensure_client(self) -> None:
        if self._client is None or not self._client.alive:
            self._client = ClientProcess()

    async def use_server(self, spec: ServerSpec) -> None:
        """Serve from now on with ``spec`` (the window's Server menu): the current server stops
        and ``spec``'s starts, so the next run goes exactly as ``main.py run --server`` does.
        If it cannot start, the previous server is started again and the ServerError raised
        (one line: why it did not start)."""
        if self.running:
            raise RunInProgress("a run is going; stop it before changing the server")
        previous = self.server_spec
        if self.server is not None:
            await self.server.stop()
            self.server = None
        self.server_spec = spec
        try:
            await self.start()
        except ServerError:
            failed, self.server = self.server, None
            if failed is not None:
                with contextlib.suppress(Exception):  # half started: its sink, its log
                    await failed.stop()
            self.server_spec = previous
            await self.start()
            raise

    async def close(self) -> None:
        """Stop a run in progress, then the server; nothing is left running."""
        self.stop_run()
        if self._driver is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._driver.join, 10)
        if self._client is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._client.close)
            self._client = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    @property
    def running(self) -> bool:
        return self._driver is not None and not self._driver.finished.is_set()

    @property
    def progress(self) -> tuple[int, int | None]:
        """(requests finished, requests planned or None when the run is timed)."""
        if self.current is None or self._driver is None:
            return (0, None)
        return (self._driver.completed, self.current.config.total_requests)

    def stop_run(self) -> None:
        if self.running and self._driver is not None:
            if self.current is not None:
                self.current.stopped = True
            self._driver.stop()

    def _server_cpu_s(self) -> float:
        if isinstance(self.server, ChildServer):
            return self.server.cpu_s()
        times = os.times()
        return times.user + times.system

    async def run(self, config: RunConfig, on_started: Callable[[RunRecord], None] | None = None) -> RunRecord:
        """Drive one run to its end (or until ``stop_run``) and return its record."""
        if self.running:
            raise RunInProgress("a run is already going; stop it first")
        if self.server is None:
            raise RuntimeError("start() the lab first")
        refused = child_cannot_serve(config, self.server_spec)
        if refused is not None:
            raise ConfigError(refused)
        demos = catalogue()
        targets = [app_target(demos, self.url, s) for s in config.streams]
        child = isinstance(self.server, ChildServer)
        # The loop that serves this run is the one metered (a test session may hold two labs).
        loop_activity.attach(collector, asyncio.get_running_loop())
        collector.reset()
        record = RunRecord(
            config=config,
            versions=versions(self.loop_kind),
            loop=self.loop_kind,
            url=self.url,
            started_ns=now_ns(),
            server=collector.requests,
            lag=collector.lag,
            stalls=collector.stalls,
            thread_names=collector.thread_names,
            loop_thread_id=getattr(self.server, "loop_thread_id", collector.loop_thread_id),
            # The meter times this process's loop: the server's only when it is the embedded one
            # (a child's loop is in another process, unmetered; under WSGI there is none).
            loop_activity=collector.loop_activity if collector.enabled and not child else None,
        )
        # A playground view can be mounted again later: the record keeps the code it measured.
        measured = {s.demo for s in config.streams}
        record.extra["snippets"] = {
            i: d.source for i, d in demos.items() if i in measured and i.startswith("playground:")
        }
        record.extra["server"] = self.server_spec.as_dict()
        meter = collector.loop_meter if collector.enabled and not child else None
        if meter is not None:
            # The meter times the loop from its next iteration on: start it one iteration early,
            # so that the run's own start below (the window's set-up, the driver) is measured too.
            meter.start()
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                meter.stop()
                raise
        sampler = pgactivity.attach(record)  # the database, and PostgreSQL's connection count
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        if self._client is None or not self._client.alive:
            self._client = ClientProcess()
        driver = LoadDriver(
            targets, record.client, on_finished=lambda: loop.call_soon_threadsafe(done.set), process=self._client
        )
        self.current, self._driver = record, driver
        cpu_before = self._server_cpu_s()
        with no_full_collections():  # before recording starts: its first collection takes a while
            collector.start_recording()
            if on_started is not None:
                on_started(record)
            driver.start()
            try:
                try:
                    await asyncio.wait_for(done.wait(), self.run_time_limit_s)
                except TimeoutError:
                    record.incomplete = (
                        f"the run reached the {self.run_time_limit_s:g} s limit {_progress(record, driver)}"
                    )
                    record.notes.append(f"incomplete: {record.incomplete}")
                    driver.stop()  # cancels what is in flight; the driver then reports its end
                    with contextlib.suppress(TimeoutError):  # a frozen driver is killed by close()
                        await asyncio.wait_for(done.wait(), 10)
                # Let responses that are still being written by the server settle, and give
                # the heartbeat one period to report a stall that ended with the last response.
                await _settle(record)
                if isinstance(self.server, ChildServer):
                    await self.server.settle(record)  # its requests arrive after their grace
                await asyncio.sleep(HEARTBEAT_PERIOD_S * 2)
            except asyncio.CancelledError:
                driver.stop()
                record.stopped = True
                await loop.run_in_executor(None, driver.join, 10)
                raise
            finally:
                collector.stop_recording()
                pgactivity.detach(record, sampler, in_process=not isinstance(self.server, ChildServer))
                # The server's CPU for the run: the child's processes, or this one (the load
                # driver runs in a process of its own, so the lab's CPU is the server's and its own).
                record.extra["server"]["cpu_s"] = round(self._server_cpu_s() - cpu_before, 3)
                record.finished_ns = now_ns()
                record.thread_names = collector.take_thread_names()
                # The watchdog appends a stall when it ends: one ending after the run is not the
                # run's, and the record must not change after it is handed over (saved, compared).
                record.stalls = list(collector.stalls)
        died = self.server.death() if isinstance(self.server, ChildServer) else None
        if died is not None and record.incomplete is None:
            record.incomplete = f"{died} {_progress(record, driver)}"
            record.notes.append(f"incomplete: {record.incomplete}")
        if driver.error is not None and record.incomplete is None:
            record.incomplete = f"{driver.error} {_progress(record, driver)}"
            record.notes.append(f"incomplete: {record.incomplete}")
        return record


def _progress(record: RunRecord, driver: LoadDriver) -> str:
    """Where the run got to: "after 40 of 200 requests", or how far into a timed run."""
    completed, planned = driver.completed, record.config.total_requests
    if planned is not None:
        return f"after {completed} of {planned} requests"
    elapsed = ((driver.finished_ns or now_ns()) - record.started_ns) / 1e9
    duration = record.config.planned_duration_s
    into = f", {elapsed:.1f} s into a {duration:g} s run" if duration is not None else ""
    return f"after {completed} requests{into}"


async def _settle(record: RunRecord, timeout_s: float = 1.0) -> None:
    """Wait briefly until every server-side request's application has returned.  A client may
    finish first, and a request's spans keep coming after its response has been sent: Django's
    ``request_finished`` receivers run in one more thread hop when the response is closed, so a
    record taken at the last response's end lacks the last requests' hops."""
    deadline = now_ns() + int(timeout_s * 1e9)
    while now_ns() < deadline and any(r.returned_ns is None for r in list(record.server)):
        await asyncio.sleep(0.005)
