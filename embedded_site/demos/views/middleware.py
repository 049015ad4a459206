"""Middleware group: what startproject's MIDDLEWARE costs an async view, and what one crossing costs."""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse

from ...tracing import collector, current_request
from ...tracing.spans import AWAIT, ROUND_TRIPS
from ..catalogue import MIDDLEWARE, Param, demo, evidence, stat
from ..subhandler import OwnSettingsHandler

# The MIDDLEWARE list `django-admin startproject` writes (Django 6.1's project template).
STARTPROJECT_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


async def behind_the_stack(request: HttpRequest) -> JsonResponse:
    """The async view both stack demos serve: as trivial as hello."""
    return JsonResponse({"message": "Hello, async world!"})


# Built once, like the site's own handler: Django's load_middleware(is_async=True) over each list.
STARTPROJECT_HANDLER = OwnSettingsHandler(behind_the_stack, middleware=STARTPROJECT_MIDDLEWARE)
BARE_HANDLER = OwnSettingsHandler(behind_the_stack, middleware=())

STACK_NOTE = (
    "What runs: a second Django handler, built once by Django's own BaseHandler.load_middleware"
    "(is_async=True) over that MIDDLEWARE list and entered from this URL after the site's own "
    "(async) middleware; the site's settings are not changed."
)


@demo(
    "middleware-startproject",
    group=MIDDLEWARE,
    title="An async view behind startproject's MIDDLEWARE",
    lesson=(
        "The seven middleware `django-admin startproject` writes (Security, Session, Common, "
        "Csrf, Authentication, Messages, XFrameOptions) are all async-capable through "
        "MiddlewareMixin, so Django adds no async_to_sync around the view. But MiddlewareMixin's "
        "`__acall__` runs each `process_request` and `process_response` through "
        "`sync_to_async(thread_sensitive=True)`, and the handler does the same for Csrf's "
        "`process_view`: 13 thread hops per request (Django 5.0 to 6.1), on top of the two for "
        "the request_started / request_finished signals. The view does nothing, so the request's "
        "time is those hops: compare its server time and hop count with the bare stack's twin. " + STACK_NOTE
    ),
    twin="middleware-bare",
    checks=(
        evidence("thread-hops", "hops_per_request", ">=", 15, "2 + 13 thread hops per request"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def middleware_startproject(request: HttpRequest) -> HttpResponse:
    return await STARTPROJECT_HANDLER.handle(request)


@demo(
    "middleware-bare",
    group=MIDDLEWARE,
    title="The same view behind an empty MIDDLEWARE",
    lesson=(
        "The same trivial async view through the same kind of second handler with MIDDLEWARE = []: "
        "only the two hops for the request_started / request_finished signals remain, and the "
        "server time is a fraction of the startproject stack's. " + STACK_NOTE
    ),
    twin="middleware-startproject",
    checks=(
        evidence("thread-hops", "hops_per_request", "<=", 2, "only the signals' two hops per request"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def middleware_bare(request: HttpRequest) -> HttpResponse:
    return await BARE_HANDLER.handle(request)


def _nothing() -> None:
    """The sync side of a crossing: no work at all, so only the crossing is timed."""


@demo(
    "hop-cost",
    group=MIDDLEWARE,
    title="What one sync_to_async crossing costs",
    lesson=(
        "The view awaits `sync_to_async(f)()` N times for a function that does nothing, on the "
        "request's own sync thread (thread_sensitive=True, as Django does for middleware, "
        "signals and the ORM), timed with perf_counter_ns; the lab's own hop tracing is off for "
        "those N calls. One round trip (loop to thread and back) cost tens to a couple of hundred "
        "microseconds on the busy 2-core machine this lab was built on (80 to 220 µs, on the Qt "
        "and the plain asyncio loop alike): Django's docs said \"around a millisecond\" up to 6.0, 6.1's say "
        "microseconds, and this machine sits in between. With ten requests crossing at once "
        "each one waits for the others', so a request sees its crossings take ten times "
        "longer. It adds up: a request behind startproject's middleware makes 15 of them."
    ),
    params=(Param("crossings", 2000, 1, 100_000, "sync_to_async round trips per request", " round trips"),),
    checks=(
        evidence("crossing-cost", "us_per_crossing", ">=", 5, "a crossing costs microseconds, not nanoseconds"),
        evidence("crossing-cost", "us_per_crossing", "<", 1000, "…and less than a millisecond"),
    ),
)
async def hop_cost(request: HttpRequest, crossings: int) -> JsonResponse:
    cross = sync_to_async(_nothing, thread_sensitive=True)
    await cross()  # the request's thread exists from here on: starting it is not a crossing's cost
    traced = current_request.set(None)  # the lab's hop tracing looks at this: off for the timed calls
    try:
        start = time.perf_counter_ns()
        for _ in range(crossings):
            await cross()
        elapsed = time.perf_counter_ns() - start
    finally:
        current_request.reset(traced)
    # One span over the N calls, named with N: the crossing-cost finding divides one by the other.
    collector.add_span(AWAIT, f"{crossings}{ROUND_TRIPS}", start, start + elapsed)
    per_crossing_us = elapsed / 1000 / crossings
    return JsonResponse({"crossings": crossings, "elapsed_us": elapsed / 1000, "us_per_crossing": per_crossing_us})
