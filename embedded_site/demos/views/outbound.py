"""Outbound group: calling slow HTTP services from an async view, one by one or all at once."""

from __future__ import annotations

import asyncio

import httpx
from django.http import HttpRequest, JsonResponse

from ...tracing import span
from ...tracing.spans import AWAIT
from ..catalogue import OUTBOUND, Param, demo

WIDTH = Param("width", 5, 1, 20, "upstream calls per request", " calls")
UPSTREAM_DELAY = Param("delay", 0.2, 0.0, 5.0, "seconds the upstream takes to answer each call", " s")


async def call_upstream(client: httpx.AsyncClient, number: int, delay: float) -> dict:
    with span(AWAIT, f"GET /internal/slow/?delay={delay} (call {number})"):
        response = await client.get("internal/slow/", params={"delay": delay})
    response.raise_for_status()
    return response.json()


def upstream_client(request: HttpRequest, delay: float) -> httpx.AsyncClient:
    # The "slow API" is an endpoint of this same server, so build its URL from the request.
    return httpx.AsyncClient(base_url=request.build_absolute_uri("/"), trust_env=False, timeout=delay + 10)


@demo(
    "fanout-sequential",
    group=OUTBOUND,
    title="Calling an API several times, one after another",
    lesson=(
        "Awaiting each upstream call before starting the next keeps the loop free (other "
        "requests run meanwhile) but gives this request no concurrency of its own: its "
        "latency is the sum of the calls, width × delay."
    ),
    params=(WIDTH, UPSTREAM_DELAY),
    twin="fanout-gather",
)
async def fanout_sequential(request: HttpRequest, width: int, delay: float) -> JsonResponse:
    async with upstream_client(request, delay) as client:
        answers = [await call_upstream(client, n, delay) for n in range(1, width + 1)]
    return JsonResponse({"calls": width, "answers": answers})


@demo(
    "fanout-gather",
    group=OUTBOUND,
    title="Calling an API several times at once with asyncio.gather",
    lesson=(
        "Start all the calls, then wait for them together: asyncio.gather runs the awaits "
        "concurrently on the one loop thread, so the request takes about as long as the slowest "
        "call instead of the sum. This is where async views really pay off: network I/O, with "
        "an async client such as httpx.AsyncClient. (ORM awaits are different; see "
        "orm-gather-serialised.)"
    ),
    params=(WIDTH, UPSTREAM_DELAY),
    twin="fanout-sequential",
)
async def fanout_gather(request: HttpRequest, width: int, delay: float) -> JsonResponse:
    async with upstream_client(request, delay) as client:
        answers = await asyncio.gather(*(call_upstream(client, n, delay) for n in range(1, width + 1)))
    return JsonResponse({"calls": width, "answers": answers})
