"""The load driver: sends a run's requests from its own thread, on its own asyncio loop.

Keeping the client off the server's loop means the client's own work never shows up as
server latency or loop lag.  Each virtual user has its own ``httpx.AsyncClient`` with
one keep-alive connection: a single shared client at 50 concurrent requests spends its
time fighting over its pool (measured 209 req/s against a server that serves 1,600).
httpx's defaults are set deliberately: no proxy from the environment (the site is on
loopback) and a timeout long enough for the slowest demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from embedded_site.tracing.asgi import CLIENT_ID_HEADER

from .config import Stream
from .record import ClientRequest

now_ns = time.perf_counter_ns
DEFAULT_TIMEOUT_S = 120.0
CANCELLED = "stopped before it finished"


@dataclass(frozen=True)
class Target:
    """A stream, resolved to the URL its requests go to."""

    stream: Stream
    url: str


class LoadDriver:
    def __init__(
        self,
        targets: Sequence[Target],
        records: list[ClientRequest] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        self.targets = list(targets)
        self.on_finished = on_finished  # called on the driver's thread when it is done
        self.records: list[ClientRequest] = records if records is not None else []
        self.completed = 0
        self.started_ns: int | None = None
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main_task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested = False
        self._next_id = 0
        # One SSL context for every client: httpx would otherwise load the CA bundle
        # once per virtual user, although the site is plain HTTP on loopback.
        self._ssl = ssl.create_default_context()

    # -- control, from any thread ---------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._thread_main, name="explorer-load-driver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Cancel what is in flight and send nothing more; what was measured is kept."""
        self._stop_requested = True
        loop, task = self._loop, self._main_task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    # -- the driver's own thread ----------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller via .error
            if not isinstance(exc, asyncio.CancelledError):
                self.error = exc
        finally:
            self.finished.set()
            if self.on_finished is not None:
                with contextlib.suppress(RuntimeError):  # the caller's loop may be closed already
                    self.on_finished()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._main_task = asyncio.current_task()
        if self._stop_requested:
            return
        self.started_ns = now_ns()
        try:
            async with asyncio.TaskGroup() as group:
                for index, target in enumerate(self.targets):
                    group.create_task(self._run_stream(index, target, self.started_ns))
        except asyncio.CancelledError:
            pass

    def _client(self, stream: Stream) -> httpx.AsyncClient:
        timeout = stream.client_timeout_s or DEFAULT_TIMEOUT_S
        return httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            trust_env=False,
            verify=self._ssl,
        )

    def _new_record(self, index: int, target: Target, intended_ns: int) -> ClientRequest:
        self._next_id += 1
        record = ClientRequest(self._next_id, index, target.stream.demo, target.url, intended_ns)
        self.records.append(record)
        return record

    async def _run_stream(self, index: int, target: Target, run_start_ns: int) -> None:
        stream = target.stream
        await _sleep_until(run_start_ns + int(stream.start_s * 1e9))
        clients = [self._client(stream) for _ in range(stream.concurrency)]
        try:
            if stream.open_loop:
                await self._open_loop(index, target, clients)
            else:
                await self._closed_loop(index, target, clients)
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await asyncio.shield(client.aclose())

    async def _closed_loop(self, index: int, target: Target, clients: list[httpx.AsyncClient]) -> None:
        stream = target.stream
        start = now_ns()
        deadline = start + int(stream.duration_s * 1e9) if stream.duration_s is not None else None
        issued = 0

        async def virtual_user(client: httpx.AsyncClient) -> None:
            nonlocal issued
            while True:
                if stream.requests is not None and issued >= stream.requests:
                    return
                now = now_ns()
                if deadline is not None and now >= deadline:
                    return
                issued += 1
                await self._send(client, self._new_record(index, target, now), stream)

        async with asyncio.TaskGroup() as group:
            for client in clients:
                group.create_task(virtual_user(client))

    async def _open_loop(self, index: int, target: Target, clients: list[httpx.AsyncClient]) -> None:
        stream = target.stream
        assert stream.rate is not None
        count = (
            stream.requests if stream.requests is not None else max(1, round(stream.rate * (stream.duration_s or 0)))
        )
        interval_ns = 1e9 / stream.rate
        free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in clients:
            free.put_nowait(client)
        start = now_ns()

        async def one(record: ClientRequest) -> None:
            client = await free.get()  # waiting here is client-side queueing, and counts as latency
            try:
                await self._send(client, record, stream)
            finally:
                free.put_nowait(client)

        async with asyncio.TaskGroup() as group:
            for i in range(count):
                intended = start + int(i * interval_ns)
                await _sleep_until(intended)
                group.create_task(one(self._new_record(index, target, intended)))

    async def _send(self, client: httpx.AsyncClient, record: ClientRequest, stream: Stream) -> None:
        record.sent_ns = now_ns()
        try:
            async with client.stream(
                "GET", record.url, headers={CLIENT_ID_HEADER.decode(): str(record.id)}
            ) as response:
                record.first_byte_ns = now_ns()
                record.status = response.status_code
                async for chunk in response.aiter_raw():
                    record.bytes += len(chunk)
        except asyncio.CancelledError:
            record.error = CANCELLED
            raise
        except httpx.TimeoutException:
            limit = stream.client_timeout_s or DEFAULT_TIMEOUT_S
            record.error = f"client gave up after {limit:g} s (timeout)"
        except httpx.HTTPError as exc:
            record.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            record.done_ns = now_ns()
            self.completed += 1


async def _sleep_until(target_ns: int) -> None:
    delay = target_ns - now_ns()
    if delay > 0:
        await asyncio.sleep(delay / 1e9)
