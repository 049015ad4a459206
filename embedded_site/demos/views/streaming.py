"""Streaming group: async and sync generators as the response body, and Server-Sent Events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

from django.http import HttpRequest, StreamingHttpResponse

from ...tracing import span
from ...tracing.spans import AWAIT, BLOCKING
from ..catalogue import STREAMING, Param, demo, evidence, found, not_found, stat


@demo(
    "streaming",
    group=STREAMING,
    title="StreamingHttpResponse over an async generator",
    lesson=(
        "Under ASGI a StreamingHttpResponse can take an async iterator. The view returns at "
        "once; Django then iterates the generator on the loop and sends each chunk as it is "
        "produced, so the client sees the headers and first bytes long before the end. The "
        "awaits between chunks leave the loop free: many streams can be open at once. Give it "
        "a sync iterator instead and Django, with a warning, reads it to the end in a thread "
        "before sending anything: under ASGI that is no longer streaming."
    ),
    params=(
        Param("chunks", 5, 1, 100, "chunks in the body", " chunks"),
        Param("interval", 0.2, 0.0, 2.0, "seconds between chunks", " s"),
    ),
    checks=(
        found("streamed", "the first byte long before the last"),
        evidence("streams-at-once", "at_once_ratio", ">=", 0.9, "streams open at once ≥ 0.9 × in flight"),
    ),
)
async def streaming(request: HttpRequest, chunks: int, interval: float) -> StreamingHttpResponse:
    async def produce() -> AsyncIterator[str]:
        for number in range(1, chunks + 1):
            with span(AWAIT, f"asyncio.sleep({interval}) before chunk {number}"):
                await asyncio.sleep(interval)
            yield f"chunk {number} of {chunks}\n"

    return StreamingHttpResponse(produce(), content_type="text/plain; charset=utf-8")


@demo(
    "streaming-sync-iterator",
    group=STREAMING,
    title="StreamingHttpResponse over a sync iterator, under ASGI",
    lesson=(
        "The same chunks from a plain (sync) generator. Under ASGI, StreamingHttpResponse's "
        '`__aiter__` cannot iterate it on the loop, so Django warns ("StreamingHttpResponse '
        "must consume synchronous iterators in order to serve them asynchronously. Use an "
        'asynchronous iterator instead.") and runs `sync_to_async(list)` over it: the whole '
        "body is produced in a thread before the first byte is sent (Django 4.2 to 6.1). The "
        "time to first byte is the time to last byte: compare with the async generator, its twin."
    ),
    params=(
        Param("chunks", 5, 1, 100, "chunks in the body", " chunks"),
        Param("interval", 0.2, 0.0, 2.0, "seconds between chunks", " s"),
    ),
    twin="streaming",
    checks=(
        found("body-at-the-end", "the body came in one burst at the end"),
        evidence("body-at-the-end", "first_chunk_share", ">=", 0.9, "first body chunk after ≥ 90 % of the response"),
        not_found("streamed", "not streamed"),
        stat("latency_ms.p50", ">=", 1000, "each response took the whole 5 × 0.2 s"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def streaming_sync_iterator(request: HttpRequest, chunks: int, interval: float) -> StreamingHttpResponse:
    def produce() -> Iterator[str]:
        for number in range(1, chunks + 1):
            with span(BLOCKING, f"time.sleep({interval}) before chunk {number}"):
                time.sleep(interval)  # runs in the thread Django hands the iterator to
            yield f"chunk {number} of {chunks}\n"

    return StreamingHttpResponse(produce(), content_type="text/plain; charset=utf-8")


@demo(
    "server-sent-events",
    group=STREAMING,
    title="Server-Sent Events, and a client that leaves",
    lesson=(
        "An async generator yielding `data: ...` events as text/event-stream is how an async "
        "view pushes Server-Sent Events. Here every client leaves after 0.3 s, during the "
        "third event's wait. Django 6.1's ASGI handler sends the response inside an asyncio."
        "TaskGroup beside a task listening for the client's disconnect (listening came in 5.0): "
        "when it comes, CancelledError is raised at the generator's await, so the "
        "generator stops instead of producing events nobody reads. Catch it only to clean up, "
        "then re-raise."
    ),
    params=(
        Param("events", 50, 1, 1000, "events the stream would send", " events"),
        Param("interval", 0.1, 0.01, 2.0, "seconds between events", " s"),
    ),
    extra={"client_timeout_s": 0.3},
    checks=(
        evidence("client-gave-up", "timed_out", ">=", 10, "every client left"),
        evidence("client-gave-up", "cancelled_share", ">=", 0.9, "Django cancelled (nearly) every stream"),
    ),
)
async def server_sent_events(request: HttpRequest, events: int, interval: float) -> StreamingHttpResponse:
    async def produce() -> AsyncIterator[str]:
        for number in range(1, events + 1):
            with span(AWAIT, f"asyncio.sleep({interval}) before event {number}"):
                await asyncio.sleep(interval)  # CancelledError arrives here when the client has gone
            yield f"id: {number}\nevent: tick\ndata: {number} of {events}\n\n"

    response = StreamingHttpResponse(produce(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response
