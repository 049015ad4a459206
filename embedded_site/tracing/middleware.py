"""Outermost Django middleware: records the whole middleware chain as one span.

It is both sync- and async-capable, so it never adds a thread hop of its own.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from .collector import collector, now_ns
from .spans import MIDDLEWARE


class TraceMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
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
