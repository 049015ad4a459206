"""Signals group: Signal.asend and asend_robust with sync and async receivers."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from django.dispatch import Signal
from django.http import HttpRequest, JsonResponse

from ...tracing import span
from ...tracing.spans import AWAIT, BLOCKING
from ..catalogue import SIGNALS, demo, evidence, stat

book_checked = Signal()
book_checked_robust = Signal()
PAUSE = 0.1  # each receiver's wait, long enough to see in the timeline


def _where() -> str:
    return "event loop" if threading.current_thread() is threading.main_thread() else threading.current_thread().name


def sync_audit(sender: Any, log: list, **kwargs: Any) -> str:
    with span(BLOCKING, f"sync_audit: time.sleep({PAUSE})"):
        time.sleep(PAUSE)
    log.append(f"sync_audit in {_where()}")
    return "audited"


def sync_count(sender: Any, log: list, **kwargs: Any) -> str:
    with span(BLOCKING, f"sync_count: time.sleep({PAUSE})"):
        time.sleep(PAUSE)
    log.append(f"sync_count in {_where()}")
    return "counted"


async def async_notify(sender: Any, log: list, **kwargs: Any) -> str:
    with span(AWAIT, f"async_notify: asyncio.sleep({PAUSE})"):
        await asyncio.sleep(PAUSE)
    log.append(f"async_notify in {_where()}")
    return "notified"


async def async_index(sender: Any, log: list, **kwargs: Any) -> str:
    with span(AWAIT, f"async_index: asyncio.sleep({PAUSE})"):
        await asyncio.sleep(PAUSE)
    log.append(f"async_index in {_where()}")
    return "indexed"


async def async_broken(sender: Any, log: list, **kwargs: Any) -> str:
    log.append("async_broken raised")
    raise ValueError("the search index is down")


# Connected in this order: sync, async, sync, async.
for receiver in (sync_audit, async_notify, sync_count, async_index):
    book_checked.connect(receiver, weak=False)
for receiver in (sync_audit, async_broken, async_notify):
    book_checked_robust.connect(receiver, weak=False)


@demo(
    "signal-asend",
    group=SIGNALS,
    title="Signal.asend with sync and async receivers",
    lesson=(
        "Four receivers connected as sync, async, sync, async. `await signal.asend(...)` "
        "(Django 5.0+) does not call them in that order: it first runs all the sync receivers, "
        "one after another, inside one sync_to_async hop on the request's thread, then runs the "
        "async ones concurrently on the loop (in 6.1 inside an asyncio.TaskGroup). So each "
        "request makes one hop more than hello, its two sync receivers take 2 × 0.1 s and the "
        "two async ones 0.1 s together; the response lists where each ran."
    ),
    checks=(
        evidence("thread-hops", "hops_per_request", ">=", 3, "one hop for both sync receivers, plus the signals' 2"),
        evidence("thread-hops", "hops_per_request", "<", 4, "…and only one"),
        stat("latency_ms.p50", ">=", 300, "2 × 0.1 s sync one after another + 0.1 s async together"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def signal_asend(request: HttpRequest) -> JsonResponse:
    log: list[str] = []
    responses = await book_checked.asend(sender=None, log=log)
    return JsonResponse({"ran": log, "responses": [[r.__name__, value] for r, value in responses]})


@demo(
    "signal-asend-robust",
    group=SIGNALS,
    title="Signal.asend_robust with a receiver that raises",
    lesson=(
        "With `asend_robust` (Django 5.0+) a receiver that raises does not stop the others or "
        "fail the request: its exception comes back as that receiver's response (and is "
        "logged to django.dispatch), and the view carries on. Plain asend would let "
        "the ValueError out and the request would be a 500. Sync receivers again run first, "
        "in one thread hop."
    ),
    checks=(
        stat("errors", "==", 0, "no request fails though a receiver raised"),
        evidence("thread-hops", "hops_per_request", ">=", 3, "one hop for the sync receiver"),
    ),
)
async def signal_asend_robust(request: HttpRequest) -> JsonResponse:
    log: list[str] = []
    responses = await book_checked_robust.asend_robust(sender=None, log=log)
    return JsonResponse({"ran": log, "responses": [[r.__name__, repr(value)] for r, value in responses]})
