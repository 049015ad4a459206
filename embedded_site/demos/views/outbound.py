"""Outbound group: calling slow HTTP services from an async view, one by one or all at once."""

from __future__ import annotations

import asyncio
import weakref

import httpx
from django.http import HttpRequest, JsonResponse

from ...tracing import span
from ...tracing.asgi import PARENT_ID_HEADER
from ...tracing.collector import current_request
from ...tracing.spans import AWAIT
from ..catalogue import OUTBOUND, Param, demo, evidence, stat

WIDTH = Param("width", 5, 1, 20, "upstream calls per request", " calls")
UPSTREAM_DELAY = Param("delay", 0.2, 0.0, 5.0, "seconds the upstream takes to answer each call", " s")


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def upstream_client() -> httpx.AsyncClient:
    """One shared client per event loop, made on first use.

    Constructing an httpx.AsyncClient loads the CA bundle even for plain HTTP: about 30 ms
    of blocking work measured here, on the event loop. A client per request would stall
    every other request for that long; share one, as you would share a connection pool.
    """
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx.AsyncClient(trust_env=False)
    return client


def own_url(request: HttpRequest, path: str) -> str:
    """``path`` on this very server: the address and port its socket is bound to.

    They come from the ASGI scope's ``server`` entry (Django's SERVER_NAME and SERVER_PORT),
    which the server fills in from the connection's local socket; never from the Host
    header or anything else a caller chooses, so a request cannot point the fan-out at
    another port or name.
    """
    host, port = request.META.get("SERVER_NAME", "unknown"), request.META.get("SERVER_PORT", "0")
    if host == "unknown" or port == "0":
        raise RuntimeError("the server did not say which address it is bound to; no upstream to call")
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"


async def call_upstream(request: HttpRequest, number: int, delay: float) -> dict:
    # The "slow API" is an endpoint of this same server, reached at the server's own address.
    url = own_url(request, "/internal/slow/")
    with span(AWAIT, f"GET /internal/slow/?delay={delay} (call {number})"):
        # Say which request is calling, so the timeline can nest the call under it.
        caller = current_request.get()
        headers = {PARENT_ID_HEADER.decode(): str(caller.id)} if caller is not None else {}
        response = await upstream_client().get(url, params={"delay": delay}, headers=headers, timeout=delay + 10)
    response.raise_for_status()
    return response.json()


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
    checks=(
        stat("latency_ms.p50", ">=", 1000, "five 0.2 s calls in a row: p50 ≥ their sum, 1 s"),
        evidence("awaits", "overlap_mean", "<", 1.5, "a request's calls ran one after another"),
    ),
)
async def fanout_sequential(request: HttpRequest, width: int, delay: float) -> JsonResponse:
    answers = [await call_upstream(request, n, delay) for n in range(1, width + 1)]
    return JsonResponse({"calls": width, "answers": answers})


@demo(
    "fanout-gather",
    group=OUTBOUND,
    title="Calling an API several times at once with asyncio.gather",
    lesson=(
        "Start all the calls, then wait for them together: asyncio.gather runs the awaits "
        "concurrently on the one loop thread, so the calls overlap instead of following each "
        "other, and the request pays for the slowest call rather than the sum (here each call "
        "is slower than its delay: the upstream is this same server, answering all of them "
        "at once). This is where async views really pay off: network I/O, with "
        "an async client such as httpx.AsyncClient, made once and shared: building one loads "
        "the CA bundle, ~30 ms of blocking work on the loop. (ORM awaits are different; see "
        "orm-gather-serialised.)"
    ),
    params=(WIDTH, UPSTREAM_DELAY),
    twin="fanout-sequential",
    checks=(evidence("awaits", "overlap_mean", ">=", 3, "a request's calls overlapped (≥ 3 at once on average)"),),
)
async def fanout_gather(request: HttpRequest, width: int, delay: float) -> JsonResponse:
    answers = await asyncio.gather(*(call_upstream(request, n, delay) for n in range(1, width + 1)))
    return JsonResponse({"calls": width, "answers": answers})
