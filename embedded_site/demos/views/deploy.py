"""A DB-bound view written both ways, the same queries, for "should I go async?": the sync one
is what a WSGI deployment runs, the async one what an ASGI deployment would."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from ..catalogue import ORM, Param, demo, evidence, stat
from ..models import Book

ROWS = Param("rows", 20, 1, 1000, "rows to fetch", " rows")


@demo(
    "db-read-sync",
    group=ORM,
    title="A DB-bound sync view: count and the bestsellers",
    lesson=(
        "Two queries in a plain sync view. Under ASGI it runs on a thread of its own (one hop for "
        "the whole view); under a WSGI server it runs on the worker's thread with no hop at all. "
        "Its twin does the same queries the async way; compare them on gunicorn-wsgi and uvicorn."
    ),
    params=(ROWS,),
    twin="db-read-async",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("sql-one-after-another", "queries_per_request", "==", 2, "two queries per request"),
    ),
)
def db_read_sync(request: HttpRequest, rows: int) -> JsonResponse:
    total = Book.objects.count()
    best = [b.title for b in Book.objects.order_by("-copies_sold")[:rows]]
    return JsonResponse({"books": total, "bestsellers": best})


@demo(
    "db-read-async",
    group=ORM,
    title="The same DB-bound view, async: acount and async for",
    lesson=(
        "The same two queries with the async ORM: each runs through sync_to_async on the "
        "request's thread, two hops where the sync view under ASGI has one."
    ),
    params=(ROWS,),
    twin="db-read-sync",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("sql-one-after-another", "queries_per_request", "==", 2, "two queries per request"),
    ),
)
async def db_read_async(request: HttpRequest, rows: int) -> JsonResponse:
    total = await Book.objects.acount()
    best = [b.title async for b in Book.objects.order_by("-copies_sold")[:rows]]
    return JsonResponse({"books": total, "bestsellers": best})
