"""Views group: what async and sync views really do under an ASGI server."""

from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, JsonResponse

from ...tracing import span
from ...tracing.spans import AWAIT, BLOCKING, CPU
from ..catalogue import VIEWS, Param, demo, evidence, found, lacks, stat
from ..tasks import summarise_reviews

logger = logging.getLogger(__name__)

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
    checks=(
        found("django-bound", "the time goes to Django's own work, not the view"),
        stat("errors", "==", 0, "no request fails"),
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
        "on a single thread. This is the case async views are made for: waiting on I/O. "
        "Look at the threads view all the same: Django still starts a sync thread for every "
        "request, because its own request_started and request_finished handlers (closing "
        "database connections) are sync code, run through sync_to_async."
    ),
    params=(DELAY,),
    checks=(
        evidence("views-at-once", "at_once_ratio", ">=", 0.9, "views at once ≥ 0.9 × requests in flight"),
        evidence("threads-started", "per_request", ">=", 1, "Django still starts a thread per request"),
    ),
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
    checks=(
        evidence("views-at-once", "at_once_ratio", ">=", 0.9, "views at once ≥ 0.9 × requests in flight"),
        stat("distinct_server_threads", ">=", 10, "one thread per request (≥ 10 threads)"),
        lacks("loop-blocked", "culprits", "in sync_sleep", "the loop was never held in the view"),
    ),
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
        "finish one after another, and views that were waiting run back to back, so the loop "
        "lag grows to the sum of their delays (ten 0.5 s sleeps read as one stall of seconds), "
        "not just one delay. This window freezes too, because it shares that loop."
    ),
    params=(DELAY,),
    blocks_loop=lambda p: p["delay"],
    checks=(
        stat("blocked_share", ">=", 0.8, "loop blocked ≥ 80 % of the run"),
        stat("views_at_once_mean", "<", 1.25, "views ran one at a time"),
        evidence("loop-blocked", "culprit", "contains", "basics.py", "the culprit is in demos/views/basics.py"),
        evidence("loop-blocked", "culprit", "contains", "in blocking_sleep", "…in blocking_sleep"),
        evidence("loop-blocked", "longest_s", ">=", 1.0, "the longest stall is several delays back to back (≥ 1 s)"),
    ),
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
        "the loop's default thread pool instead of the request's own sync thread. The blocking "
        "code never holds the loop, but the pool has a fixed size (min(32, cores + 4)), so "
        "beyond that many concurrent calls queue and fewer views run at once than requests are "
        "in flight: look for the hop-wait growing."
    ),
    params=(DELAY,),
    checks=(
        evidence("pool-queueing", "waited", ">=", 1, "calls queued for a pool thread"),
        evidence(
            "views-at-once", "at_once_ratio", "<", 0.9, "not fully concurrent: fewer views at once than in flight"
        ),
        lacks("loop-blocked", "culprits", "blocking_io", "the blocking code never held the loop"),
    ),
)
async def sync_to_async_threadpool(request: HttpRequest, delay: float) -> JsonResponse:
    def blocking_io() -> None:
        with span(BLOCKING, f"time.sleep({delay})"):
            time.sleep(delay)

    await sync_to_async(blocking_io, thread_sensitive=False)()
    return JsonResponse({"slept": delay})


# --- CPU-bound work ---------------------------------------------------------------------


def crunch(iterations: int) -> int:
    """Pure-Python arithmetic: it holds the GIL from start to finish."""
    total = 0
    for i in range(iterations):
        total = (total + i * i) % 1_000_003
    return total


def _iterations_per_ms() -> int:
    """How many crunch() iterations take a millisecond on this machine, measured once at import."""
    sample = 100_000
    start = time.perf_counter()
    crunch(sample)
    return max(1, int(sample / ((time.perf_counter() - start) * 1000)))


ITERATIONS_PER_MS = _iterations_per_ms()
WORK = Param("work", 200, 1, 5000, "milliseconds of pure-Python CPU work per request (as measured alone)", " ms")


@demo(
    "cpu-bound-async",
    group=VIEWS,
    title="CPU work inside an async view",
    lesson=(
        "async does not make computation cheaper. A loop of pure-Python arithmetic in an async "
        "view never awaits, so it holds the event loop for its whole run: concurrent requests "
        "finish one after another and the loop lag grows by the full work time per request, "
        "exactly like time.sleep. await only helps while waiting, not while computing."
    ),
    params=(WORK,),
    blocks_loop=lambda p: p["work"] / 1000,
    checks=(
        stat("blocked_share", ">=", 0.8, "loop blocked ≥ 80 % of the run"),
        stat("views_at_once_mean", "<", 1.25, "views ran one at a time"),
        evidence("loop-blocked", "culprit", "contains", "in crunch", "the culprit is crunch()"),
    ),
)
async def cpu_bound_async(request: HttpRequest, work: int) -> JsonResponse:
    with span(CPU, f"crunch ~{work} ms"):
        result = crunch(work * ITERATIONS_PER_MS)  # runs on the loop thread: nothing else can run
    return JsonResponse({"work_ms": work, "result": result})


@demo(
    "cpu-bound-thread",
    group=VIEWS,
    title="CPU work moved to a thread",
    lesson=(
        "The same computation handed to sync_to_async(thread_sensitive=False) runs in the thread "
        "pool, but the event loop does not stay responsive: pure-Python code holds the GIL, the "
        "loop thread needs the GIL to run anything, so while the threads compute the loop is "
        "late for most of the run (lag of hundreds of milliseconds; even starting a pool thread "
        "from the loop waits for it). Nor does the work run in parallel: one thread holds the "
        "GIL at a time, so the CPU spans overlap in time but each is stretched by the others, "
        "and past the pool's size (min(32, cores + 4)) calls queue for a thread. For parallel "
        "CPU work use processes (or a task queue), or libraries that release the GIL."
    ),
    params=(WORK,),
    checks=(
        found("gil-contention", "CPU in threads held the GIL: the loop was late"),
        evidence("gil-contention", "work_at_once", ">=", 2, "CPU spans overlap in time, so each is stretched"),
        stat("blocked_share", ">=", 0.25, "loop blocked ≥ 25 % of the run, threads or not"),
        found("pool-queueing", "more calls than pool threads: some queued"),
    ),
)
async def cpu_bound_thread(request: HttpRequest, work: int) -> JsonResponse:
    def crunch_in_thread() -> int:
        with span(CPU, f"crunch ~{work} ms"):
            return crunch(work * ITERATIONS_PER_MS)  # still needs the GIL the loop thread needs

    result = await sync_to_async(crunch_in_thread, thread_sensitive=False)()
    return JsonResponse({"work_ms": work, "result": result})


# --- Cancellation -----------------------------------------------------------------------


@demo(
    "client-disconnect",
    group=VIEWS,
    title="The client gives up: Django cancels the view",
    lesson=(
        "Under ASGI Django listens for the client's disconnect while the view runs. When it "
        "comes (here the load driver gives up after 0.3 s), Django cancels the view's task: "
        "asyncio.CancelledError is raised at the await the view is parked on. Catch it only to "
        "clean up, then re-raise; swallowing it would keep a dead request running. A sync view "
        "cannot be interrupted like this: its thread runs to the end."
    ),
    params=(Param("delay", 3.0, 0.0, 10.0, "seconds the view would wait if nobody interrupted it", " s"),),
    extra={"client_timeout_s": 0.3},
    checks=(
        evidence("client-gave-up", "timed_out", ">=", 10, "the client gave up on every request"),
        evidence("client-gave-up", "cancelled_share", ">=", 0.9, "Django cancelled (nearly) every view"),
    ),
)
async def client_disconnect(request: HttpRequest, delay: float) -> JsonResponse:
    started = time.perf_counter()
    try:
        with span(AWAIT, f"asyncio.sleep({delay})"):
            await asyncio.sleep(delay)
    except asyncio.CancelledError:
        # The client has gone: release what the view holds (locks, temp files, upstream
        # calls), then let the cancellation continue.
        with span(CPU, "cleanup after cancellation"):
            logger.info("client went away; view cancelled after %.2f s", time.perf_counter() - started)
        raise
    return JsonResponse({"slept": delay})


# --- A sync-only middleware in an async stack -------------------------------------------


class SyncOnlyMiddleware:
    """An old-style middleware: sync_capable only, like any middleware that sets no flags."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # get_response is async_to_sync(view): this thread now blocks while the loop runs the view.
        with span(BLOCKING, "get_response: async_to_sync, back to the loop for the view"):
            return self.get_response(request)


async def trivial_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, async world!"})


@demo(
    "sync-middleware-penalty",
    group=VIEWS,
    title="An async view behind a sync-only middleware",
    lesson=(
        "The view is as trivial as hello, but it sits behind one middleware that is only "
        "sync_capable, wired exactly as Django's load_middleware wires it under ASGI: "
        "sync_to_async to run the middleware on the request's sync thread (a hop in the "
        "timeline), then async_to_sync to come back to the loop for the view while that thread "
        "blocks. Every sync-only middleware in MIDDLEWARE costs every request those two thread "
        "switches, async views included. Check your middleware for async_capable = True."
    ),
    twin="hello",
    checks=(
        evidence("thread-hops", "hops_per_request", ">=", 3, "a hop more per request than hello's two"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def sync_middleware_penalty(request: HttpRequest) -> JsonResponse:
    # What BaseHandler.load_middleware(is_async=True) builds, once at start-up, for
    # MIDDLEWARE = ["...SyncOnlyMiddleware"]; rebuilt per request here to put it on show.
    handler = BaseHandler()
    view = convert_exception_to_response(trivial_view)
    # The middleware can only call a sync get_response, so the async view is wrapped in async_to_sync...
    below = handler.adapt_method_mode(False, view, method_is_async=True)
    middleware = convert_exception_to_response(SyncOnlyMiddleware(below))
    # ...and the ASGI handler can only await, so the middleware is wrapped in sync_to_async.
    chain = handler.adapt_method_mode(True, middleware, method_is_async=False)
    return await chain(request)


# --- Background tasks (django.tasks) ----------------------------------------------------


@demo(
    "task-enqueue",
    group=VIEWS,
    title="Enqueue a background task (django.tasks)",
    lesson=(
        "Django 6's tasks framework: a @task function and `await task.aenqueue(...)`, which "
        "returns a TaskResult. The result depends on the backend: with ImmediateBackend (used "
        "here, and the default) aenqueue runs the task at once, through a sync_to_async hop on "
        "the request's thread, so the status comes back SUCCESSFUL and the request pays for the "
        "work. A real queue backend returns READY at once and a separate worker runs it. Django "
        "ships only the Immediate and Dummy backends; a worker comes from a third-party package."
    ),
    params=(Param("book", 1, 1, 2000, "id of the book whose reviews the task summarises"),),
    checks=(stat("errors", "==", 0, "no request fails"),),
)
async def task_enqueue(request: HttpRequest, book: int) -> JsonResponse:
    result = await summarise_reviews.aenqueue(book_id=book)
    return JsonResponse(
        {
            "id": result.id,
            "status": result.status,
            "backend": result.backend,
            "return_value": result.return_value if result.is_finished else None,
        }
    )
