"""Outermost Django middleware: records the whole middleware chain as one span.

MiddlewareMixin makes it both sync- and async-capable; it defines no process_* hooks, so
it never adds a thread hop of its own.
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin

from .collector import collector, now_ns
from .spans import MIDDLEWARE


class TraceMiddleware(MiddlewareMixin):
    # try/finally rather than collector.span(): this runs for every request, and a
    # generator-based context manager costs several times more.
    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        start = now_ns()
        try:
            return self.get_response(request)
        finally:
            collector.add_span(MIDDLEWARE, "middleware chain", start, now_ns())

    async def __acall__(self, request):
        start = now_ns()
        try:
            return await self.get_response(request)
        finally:
            collector.add_span(MIDDLEWARE, "middleware chain", start, now_ns())
