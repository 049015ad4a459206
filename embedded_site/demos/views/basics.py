"""Views group: what async and sync views really do under an ASGI server."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse

from ...tracing import span
from ...tracing.spans import AWAIT, BLOCKING
from ..catalogue import VIEWS, Param, demo

DELAY = Param("delay", 0.5, 0.0, 10.0, "seconds each request waits", " s")


@demo(
    "hello",
    group=VIEWS,
    title="Hello, async world",
    lesson=(
        "The smallest async view: it returns JSON without awaiting anything. Its timeline "
        "is almost all server overhead (routing, middleware, response), which makes it the "
        "yardstick for throughput and for what the explorer's own tracing costs."
    ),
)
async def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, async world!"})


@demo(
    "async-sleep",
    group=VIEWS,
    title="await asyncio.sleep in an async view",
    lesson=(
        "While the view awaits, the event loop is free to run every other request. Fire 50 "
        "of them at once and the whole batch takes about as long as one: the waits overlap "
        "on a single thread. This is the case async views are made for: waiting on I/O."
    ),
    params=(DELAY,),
)
async def async_sleep(request: HttpRequest, delay: float) -> JsonResponse:
    with span(AWAIT, f"asyncio.sleep({delay})"):
        await asyncio.sleep(delay)
    return JsonResponse({"slept": delay})


@demo(
    "sync-sleep",
    group=VIEWS,
    title="time.sleep in a sync view",
    lesson=(
        "Under ASGI Django runs a sync view in a worker thread, and each request gets its own "
        "thread-sensitive context, so its own thread. Twenty concurrent sync sleeps therefore "
        "still overlap, on twenty threads: concurrency bought with threads, not with the loop. "
        "Watch the thread lanes, and the thread hop before each view."
    ),
    params=(DELAY,),
)
def sync_sleep(request: HttpRequest, delay: float) -> JsonResponse:
    with span(BLOCKING, f"time.sleep({delay})"):
        time.sleep(delay)
    return JsonResponse({"slept": delay})


@demo(
    "blocking-sleep",
    group=VIEWS,
    title="time.sleep inside an async view",
    lesson=(
        "The classic mistake: a blocking call inside async def. The view runs on the event "
        "loop's own thread, so nothing else can run until it returns: concurrent requests "
        "finish one after another, the loop lag jumps to the full delay, and this window "
        "freezes too, because it shares that loop."
    ),
    params=(DELAY,),
    blocks_loop=lambda p: p["delay"],
)
async def blocking_sleep(request: HttpRequest, delay: float) -> JsonResponse:
    with span(BLOCKING, f"time.sleep({delay})"):
        time.sleep(delay)  # blocks the event loop: the mistake this demo shows
    return JsonResponse({"slept": delay})


@demo(
    "sync-to-async-threadpool",
    group=VIEWS,
    title="sync_to_async(thread_sensitive=False)",
    lesson=(
        "Blocking code moved off the loop with sync_to_async(thread_sensitive=False) runs in "
        "the loop's default thread pool instead of the request's own sync thread. The loop "
        "stays responsive, but the pool has a fixed size (min(32, cores + 4)), so beyond that "
        "many concurrent calls queue: look for the hop-wait growing."
    ),
    params=(DELAY,),
)
async def sync_to_async_threadpool(request: HttpRequest, delay: float) -> JsonResponse:
    def blocking_io() -> None:
        with span(BLOCKING, f"time.sleep({delay})"):
            time.sleep(delay)

    await sync_to_async(blocking_io, thread_sensitive=False)()
    return JsonResponse({"slept": delay})
