"""Streaming group: an async generator as the response body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from django.http import HttpRequest, StreamingHttpResponse

from ...tracing import span
from ...tracing.spans import AWAIT
from ..catalogue import STREAMING, Param, demo, evidence, found


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
