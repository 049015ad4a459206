"""Outermost Django middleware: records the whole middleware chain as one span.

MiddlewareMixin makes it both sync- and async-capable; it defines no process_* hooks, so
it never adds a thread hop of its own.
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin

from .collector import collector
from .spans import MIDDLEWARE


class TraceMiddleware(MiddlewareMixin):
    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        with collector.span(MIDDLEWARE, "middleware chain"):
            return self.get_response(request)

    async def __acall__(self, request):
        with collector.span(MIDDLEWARE, "middleware chain"):
            return await self.get_response(request)
