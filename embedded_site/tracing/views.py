"""Wrap a demo view so its run time and any exception it raises land in the trace.

The wrapper keeps the view's nature: an ``async def`` view stays a coroutine function
and a sync view stays sync, so Django adapts it exactly as it would the bare view.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable

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


def traced_view(view: Callable, name: str) -> Callable:
    """The view, recorded as a span (an exception it raises is noted on the request).
    try/finally rather than a context manager: this runs for every request, and a
    generator-based one costs several times more."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request, *args, **kwargs):
            start = now_ns()
            error = None
            try:
                return await view(request, *args, **kwargs)
            except BaseException as exc:
                error = type(exc).__name__
                _note_exception(exc)
                raise
            finally:
                collector.add_span(VIEW, name, start, now_ns(), error)

        return async_wrapper

    @functools.wraps(view)
    def sync_wrapper(request, *args, **kwargs):
        start = now_ns()
        error = None
        try:
            return view(request, *args, **kwargs)
        except BaseException as exc:
            error = type(exc).__name__
            _note_exception(exc)
            raise
        finally:
            collector.add_span(VIEW, name, start, now_ns(), error)

    return sync_wrapper
