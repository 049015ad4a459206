"""Class-based views group: an async View, and a View that mixes sync and async handlers."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View

from ...tracing import span
from ...tracing.spans import AWAIT
from ..catalogue import CLASS_VIEWS, demo, evidence, found


class AsyncBookView(View):
    """Every handler async: Django marks as_view()'s function a coroutine function."""

    async def get(self, request: HttpRequest) -> JsonResponse:
        with span(AWAIT, "asyncio.sleep(0.2)"):
            await asyncio.sleep(0.2)
        return JsonResponse({"handler": "async get"})

    async def post(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"handler": "async post"})


class MixedBookView(View):
    """A sync get beside an async post: Django refuses the class."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"handler": "sync get"})

    async def post(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse({"handler": "async post"})


ASYNC_BOOK_VIEW = AsyncBookView.as_view()


@demo(
    "cbv-async",
    group=CLASS_VIEWS,
    title="A View subclass with async handlers",
    lesson=(
        "A class-based view is async when all its HTTP handlers (get, post...) are `async def`: "
        "View.as_view() then marks the function it returns as a coroutine function, Django "
        "awaits it on the loop (no thread), and dispatch() returns the handler's coroutine. "
        "Here get awaits asyncio.sleep(0.2), and ten requests wait at once. The generic views "
        "built on View (TemplateView, ListView...) stay sync: their handlers are sync."
    ),
    twin="cbv-mixed",
    checks=(evidence("views-at-once", "at_once_ratio", ">=", 0.9, "views at once ≥ 0.9 × requests in flight"),),
)
async def cbv_async(request: HttpRequest) -> HttpResponse:
    return await ASYNC_BOOK_VIEW(request)


@demo(
    "cbv-mixed",
    group=CLASS_VIEWS,
    title="A View mixing sync and async handlers",
    lesson=(
        "A class with a sync get and an async post cannot be either kind of view: "
        'View.view_is_async raises ImproperlyConfigured ("MixedBookView HTTP handlers must '
        'either be all sync or all async."). Django raises it in as_view(), so in a real '
        "project when the URLconf is loaded; here as_view() is called in the request so the "
        "error is a 500 you can open. Make every handler async (the twin) or every one sync."
    ),
    expect_status=500,
    twin="cbv-async",
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "ImproperlyConfigured", "with ImproperlyConfigured"),
        evidence("all-failed", "cause", "contains", "all sync or all async", "…all sync or all async"),
    ),
)
async def cbv_mixed(request: HttpRequest) -> HttpResponse:
    view = MixedBookView.as_view()  # raises: the handlers are of both kinds
    return await view(request)
