"""Wrap a demo view so its run time and any exception it raises land in the trace.

The wrapper keeps the view's nature: an ``async def`` view stays a coroutine function
and a sync view stays sync, so Django adapts it exactly as it would the bare view.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .collector import collector, current_request, now_ns
from .errors import traceback_text
from .spans import VIEW


def _note_exception(exc: BaseException) -> None:
    request = current_request.get()
    if request is None:
        return
    if isinstance(exc, asyncio.CancelledError):
        request.cancelled = True
    elif request.exception_type is None:
        request.exception_type = type(exc).__name__
        request.exception = str(exc)[:500]
        request.traceback = traceback_text(exc)


note_exception = _note_exception  # for handlers that turn an exception into a response themselves


@contextmanager
def _view_span(name: str) -> Iterator[None]:
    """Record the view as a span; note an exception it raises on the request."""
    start = now_ns()
    error = None
    try:
        yield
    except BaseException as exc:
        error = type(exc).__name__
        _note_exception(exc)
        raise
    finally:
        collector.add_span(VIEW, name, start, now_ns(), error)


def traced_view(view: Callable, name: str) -> Callable:
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            with _view_span(name):
                return await view(request, *args, **kwargs)

        return async_wrapper

    @functools.wraps(view)
    def sync_wrapper(request, *args, **kwargs):
        with _view_span(name):
            return view(request, *args, **kwargs)

    return sync_wrapper
