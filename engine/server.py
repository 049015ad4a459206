"""uvicorn serving the traced Django site on the *running* event loop, on 127.0.0.1 only.

Three things uvicorn does by default do not fit an app that embeds it, so they are
changed here: ``serve()`` would take SIGINT/SIGTERM for itself and re-raise them after
shutdown (the app owns its signals instead); a busy port would make it call
``sys.exit`` inside its task (the socket is bound here first, so a bind error is an
ordinary exception with a clear message); and Django refuses lifespan scopes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from embedded_site.tracing import collector
from embedded_site.tracing.heartbeat import run_heartbeat
from embedded_site.tracing.watchdog import start_watchdog

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """The site could not be served; the message says why in plain words."""


def bind_loopback(port: int) -> socket.socket:
    """Bind a listening TCP socket on 127.0.0.1 (port 0 picks a free one)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says it is TCP (proto 6); with proto 0 every response body waited
    # for the client's delayed ACK (about 44 ms a request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerError(
                f"port {port} on {HOST} is already in use; pick another with --port, or 0 for any free port"
            ) from None
        if exc.errno == errno.EACCES:
            raise ServerError(
                f"not allowed to listen on port {port}; ports below 1024 need privileges, pick one above"
            ) from None
        raise ServerError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


class _EmbeddedUvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The host application owns SIGINT/SIGTERM (see engine.loops); uvicorn must not
        # swap the handlers and re-raise the signal after shutdown.
        yield


class EmbeddedServer:
    """Serves an ASGI app on the running loop; ``start`` returns once it accepts connections."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.requested_port = port
        self.port: int | None = None
        self._server: _EmbeddedUvicorn | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("the server is not running")
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._serve_task is not None and not self._serve_task.done()

    async def start(self) -> None:
        if self.running:
            return
        sock = bind_loopback(self.requested_port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            http="h11",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=3,
            timeout_keep_alive=30,
            backlog=2048,
        )
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        self._server = _EmbeddedUvicorn(config)
        loop = asyncio.get_running_loop()
        collector.loop_thread_id = collector.note_thread()
        self._serve_task = loop.create_task(self._server.serve(sockets=[sock]), name="explorer-uvicorn")
        while not self._server.started:
            if self._serve_task.done():
                exc = self._serve_task.exception()
                raise ServerError(f"the server stopped while starting: {exc!r}")
            await asyncio.sleep(0.002)
        self._heartbeat_task = loop.create_task(run_heartbeat(collector), name="explorer-heartbeat")
        start_watchdog(collector, beside=self._heartbeat_task)  # names what blocks the loop; ends with the heartbeat

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (3 s at most), then return."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
            self._heartbeat_task = None
        if self._server is not None and self._serve_task is not None:
            self._server.should_exit = True
            try:
                await self._serve_task
            except SystemExit:  # uvicorn's startup failure path
                pass
            self._serve_task = None
