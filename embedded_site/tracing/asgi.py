"""ASGI wrapper that records each HTTP request's arrival, response start, end, status and size.

It sits outside Django's handler, so what it measures is what the server really did,
including the time Django spends before and after the view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .collector import TraceCollector, current_request, now_ns
from .errors import traceback_text
from .spans import ServerRequest

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

CLIENT_ID_HEADER = b"x-explorer-id"
PARENT_ID_HEADER = b"x-explorer-parent"  # sent by a view calling this server (fan-out demos): its request id


def _client_id(scope: Scope, header: bytes = CLIENT_ID_HEADER) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == header:
            try:
                return int(value)
            except ValueError:
                return None
    return None


class TracedApplication:
    def __init__(self, app: ASGIApp, collector: TraceCollector) -> None:
        self.app = app
        self.collector = collector

    async def __call__(self, scope: Scope, receive, send) -> None:
        if not (self.collector.enabled and self.collector.recording):
            # Tracing off (the benchmark's baseline) or no run recording (``serve``, an idle
            # window): nothing is kept, and with no current request every other hook takes
            # its fast path too.
            if scope["type"] == "lifespan":
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            # Django serves HTTP only; answer lifespan politely instead of raising.
            if scope["type"] == "lifespan":
                return
            await self.app(scope, receive, send)
            return
        collector = self.collector
        shared = collector.shared
        request = ServerRequest(
            id=collector.new_request_id(),
            client_id=_client_id(scope),
            method=shared(scope.get("method", "GET")),
            path=shared(scope.get("path", "")),
            query=shared(scope.get("query_string", b"").decode("latin-1")),
            arrival_ns=now_ns(),
            thread_id=collector.note_thread(),
            parent_id=_client_id(scope, PARENT_ID_HEADER),
        )
        collector.requests.append(request)
        token = current_request.set(request)

        async def traced_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                request.response_start_ns = now_ns()
                request.status = message["status"]
            elif kind == "http.response.body":
                request.bytes_sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    # Stamped when the last bytes are handed to the server, not after its
                    # send returns: by then the client may already have them.
                    request.end_ns = now_ns()
                elif request.chunks_ns is None:  # a streamed body: when each chunk left
                    request.chunks_ns = [now_ns()]
                else:
                    request.chunks_ns.append(now_ns())
            await send(message)

        async def traced_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and request.end_ns is None:
                request.disconnected = True
            return message

        try:
            await self.app(scope, traced_receive, traced_send)
        except asyncio.CancelledError:
            request.cancelled = True
            raise
        except Exception as exc:
            if request.exception_type is None:
                request.exception_type = type(exc).__name__
                request.exception = str(exc)[:500]
                request.traceback = traceback_text(exc)
            raise
        finally:
            if request.end_ns is None:
                request.end_ns = now_ns()
            # After the response, Django still runs request_finished (in a thread): its spans come late.
            request.returned_ns = now_ns()
            current_request.reset(token)
