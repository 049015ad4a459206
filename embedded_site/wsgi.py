"""The site under a WSGI server (gunicorn's sync and gthread workers): the sync baseline.

``TracedWSGI`` records each request as ``tracing.asgi.TracedApplication`` does under ASGI
(arrival, response start, status, bytes, end, the exception), and sets the current request
so the SQL, template and middleware spans land in it; the worker thread is its lane.  There
is no event loop, so there is no loop lag to measure.  The body is collected whole before it is handed to the server
(so a streamed response arrives at once here: the sync baseline does not stream).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .bootstrap import setup_django

setup_django()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from .tracing import collector  # noqa: E402
from .tracing.collector import current_request, now_ns  # noqa: E402
from .tracing.errors import traceback_text  # noqa: E402
from .tracing.spans import ServerRequest  # noqa: E402
from .tracing.stream import start_streaming  # noqa: E402


def _int_header(environ: dict[str, Any], name: str) -> int | None:
    try:
        return int(environ[name])
    except (KeyError, ValueError):
        return None


class TracedWSGI:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        collector.start_recording()
        start_streaming(collector)  # the lab counts the workers that said hello

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        shared = collector.shared
        request = ServerRequest(
            id=collector.new_request_id(),
            client_id=_int_header(environ, "HTTP_X_EXPLORER_ID"),
            method=shared(environ.get("REQUEST_METHOD", "GET")),
            path=shared(environ.get("PATH_INFO", "")),
            query=shared(environ.get("QUERY_STRING", "")),
            arrival_ns=now_ns(),
            thread_id=collector.note_thread(),
            parent_id=_int_header(environ, "HTTP_X_EXPLORER_PARENT"),
        )
        collector.requests.append(request)
        token = current_request.set(request)

        def traced_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            request.response_start_ns = now_ns()
            request.status = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, traced_start_response)
            chunks = list(_sent(body, request))
        except Exception as exc:
            request.exception_type = type(exc).__name__
            request.exception = str(exc)[:500]
            request.traceback = traceback_text(exc)
            raise
        finally:
            if request.end_ns is None:
                request.end_ns = now_ns()
            request.returned_ns = now_ns()
            current_request.reset(token)
        return chunks


def _sent(body: Iterable[bytes], request: ServerRequest) -> Iterator[bytes]:
    try:
        for chunk in body:
            request.bytes_sent += len(chunk)
            yield chunk
    finally:
        request.end_ns = now_ns()
        close = getattr(body, "close", None)
        if close is not None:
            close()  # sends request_finished: Django closes the thread's connection here


def _warm_up() -> None:
    """Import the URLconf and the demo modules before the first request (as the lab has)."""
    from django.urls import get_resolver

    from .demos.catalogue import all_demos

    all_demos()
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf


_warm_up()
application = TracedWSGI(WSGIHandler())
