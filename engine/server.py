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
import sys
from collections.abc import Iterator
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from embedded_site.tracing import collector, loop_activity
from embedded_site.tracing.heartbeat import run_heartbeat
from embedded_site.tracing.watchdog import start_watchdog

HOST = "127.0.0.1"

# Slow clients. uvicorn (0.54, h11) enforces only ``timeout_keep_alive``, and only once a
# response is complete: a connection that sends nothing, half a header or half a body was
# kept open forever (0 of 450 closed in 75 s), and so was a ``Content-Length: 99999999999``
# request whose body never came, with Django waiting for it. ``h11_max_incomplete_event_size``
# bounds a header's size, not its time. So the protocol below adds the two missing clocks.
HEADER_TIMEOUT_S = 10.0  # a new connection, or a request begun, has this long to finish its headers
BODY_IDLE_TIMEOUT_S = 10.0  # the longest silence while a request body is still due
KEEP_ALIVE_TIMEOUT_S = 30.0  # uvicorn's own: an idle connection between requests
# limit_concurrency is left unset on purpose: its 503s would show up in a run as the site's
# errors, the lab's own runs are bounded (engine.config), and idle sockets now time out.


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


class _SlowClientGuard(H11Protocol):
    """uvicorn's h11 protocol plus the header and body timeouts it lacks (see above).

    One timer per connection, in one of two modes: ``headers`` from the moment a
    connection opens or the next request's first byte arrives (more bytes do not extend
    it, so a trickle cannot keep it open); ``body`` while the request says more body is
    due, restarted by each chunk. Between requests uvicorn's keep-alive timer is in
    charge, and while the view runs nothing is timed: a slow view is the lab's subject.
    On timeout the client gets ``408 Request Timeout`` (unless a response has begun) and
    the connection is closed; a Django view waiting for the body sees a disconnect.
    """

    header_timeout_s = HEADER_TIMEOUT_S
    body_idle_timeout_s = BODY_IDLE_TIMEOUT_S

    _guard: asyncio.TimerHandle | None = None
    _guard_mode: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._set_guard("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_guard(None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._update_guard(got_data=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._update_guard(got_data=False)

    def _update_guard(self, got_data: bool) -> None:
        if self.transport.is_closing():
            self._set_guard(None)
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            begun = got_data or bool(self.conn.trailing_data[0])
            if self._guard_mode != "headers":
                self._set_guard("headers" if begun else None)  # not begun: keep-alive's turn
        elif state is h11.SEND_BODY:
            if got_data or self._guard_mode != "body":
                self._set_guard("body")
        else:
            self._set_guard(None)

    def _set_guard(self, mode: str | None) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None
        self._guard_mode = mode
        if mode is not None:
            delay = self.header_timeout_s if mode == "headers" else self.body_idle_timeout_s
            self._guard = self.loop.call_later(delay, self._on_guard_timeout)

    def _on_guard_timeout(self) -> None:
        self._guard = None
        if self.transport.is_closing():
            return
        if self._guard_mode == "body" and self.flow.read_paused:
            self._set_guard("body")  # we stopped reading (the app is behind), not the client
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()


_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _EmbeddedUvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The host application owns SIGINT/SIGTERM (see engine.loops); uvicorn must not
        # swap the handlers and re-raise the signal after shutdown.
        yield


class _QuietShutdown(logging.Filter):
    """Turns uvicorn's noise about requests cancelled at shutdown into one count.

    When a stop's grace period runs out, uvicorn logs "Cancel N running task(s)" and then,
    for every one of them, "Exception in ASGI application" with the CancelledError's full
    traceback through Django (17 requests in flight printed about 900 lines). Those are
    not errors of the site: the person asked it to stop. The filter keeps N for the one
    summary line ``EmbeddedServer.stop`` prints, and lets every other record through.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stopping = False
        self.cancelled = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.stopping:
            return True
        if record.msg.startswith("Cancel %s running task(s)") and record.args:
            self.cancelled = int(record.args[0])
            return False
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


class EmbeddedServer:
    """Serves an ASGI app on the running loop; ``start`` returns once it accepts connections."""

    def __init__(
        self,
        app: Any,
        port: int = 0,
        *,
        header_timeout_s: float = HEADER_TIMEOUT_S,
        body_idle_timeout_s: float = BODY_IDLE_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.header_timeout_s = header_timeout_s
        self.body_idle_timeout_s = body_idle_timeout_s
        self.requested_port = port
        self.port: int | None = None
        self._server: _EmbeddedUvicorn | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._quiet = _QuietShutdown()
        self.cancelled_on_stop = 0  # requests still running when the last stop cancelled them

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
            http=type(
                "SlowClientGuard",
                (_SlowClientGuard,),
                {"header_timeout_s": self.header_timeout_s, "body_idle_timeout_s": self.body_idle_timeout_s},
            ),
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=3,
            timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S,
            backlog=2048,
        )
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.setLevel(logging.WARNING)
        self._quiet.stopping, self._quiet.cancelled = False, 0
        if self._quiet not in uvicorn_log.filters:
            uvicorn_log.addFilter(self._quiet)
        self._server = _EmbeddedUvicorn(config)
        loop = asyncio.get_running_loop()
        collector.loop_thread_id = collector.note_thread()
        loop_activity.attach(collector, loop)  # what the loop's thread does, timed during recording runs
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
        loop_activity.detach(collector, asyncio.get_running_loop())
        if self._server is not None and self._serve_task is not None:
            self._quiet.stopping = True
            self._server.should_exit = True
            try:
                await self._serve_task
            except SystemExit:  # uvicorn's startup failure path
                pass
            self._serve_task = None
            self.cancelled_on_stop = self._quiet.cancelled
            if self.cancelled_on_stop:
                n = self.cancelled_on_stop
                print(
                    f"stopped with {n} request{'s' if n != 1 else ''} in flight; "
                    f"{'they were' if n != 1 else 'it was'} cancelled",
                    file=sys.stderr,
                    flush=True,
                )
