"""Transactions group: ATOMIC_REQUESTS meets an async view."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from ..catalogue import TRANSACTIONS, demo, evidence, found, stat
from ..models import Book
from ..subhandler import OwnSettingsHandler

ATOMIC_NOTE = (
    "What runs: a second Django handler whose make_view_atomic is Django's own code reading a "
    "DATABASES where default has ATOMIC_REQUESTS = True; the site's settings are not changed."
)


async def plain_async_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"books": await Book.objects.acount()})


def count_in_one_transaction() -> tuple[int, int]:
    """Two reads inside one atomic block, on one connection, in one thread."""
    with transaction.atomic():
        return Book.objects.count(), Book.objects.filter(year__gte=2000).count()


@transaction.non_atomic_requests
async def opted_out_async_view(request: HttpRequest) -> JsonResponse:
    books, recent = await sync_to_async(count_in_one_transaction)()
    return JsonResponse({"books": books, "since_2000": recent})


ATOMIC_HANDLER = OwnSettingsHandler(plain_async_view, databases={"default": {"ATOMIC_REQUESTS": True}})
OPTED_OUT_HANDLER = OwnSettingsHandler(opted_out_async_view, databases={"default": {"ATOMIC_REQUESTS": True}})


@demo(
    "atomic-requests-async",
    group=TRANSACTIONS,
    title="ATOMIC_REQUESTS = True with an async view",
    lesson=(
        "ATOMIC_REQUESTS wraps every view in transaction.atomic, which only works for sync "
        "code: a transaction belongs to one connection on one thread. For an async view "
        'Django does not try: `make_view_atomic` raises RuntimeError("You cannot use '
        'ATOMIC_REQUESTS with async views.") before the view runs, 500 (Django 3.1 to 6.1). '
        "See the twin for what works. " + ATOMIC_NOTE
    ),
    expect_status=500,
    twin="atomic-requests-opt-out",
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "RuntimeError", "with RuntimeError"),
        evidence("all-failed", "cause", "contains", "ATOMIC_REQUESTS with async views", "…about ATOMIC_REQUESTS"),
    ),
)
async def atomic_requests_async(request: HttpRequest) -> HttpResponse:
    return await ATOMIC_HANDLER.handle(request)


@demo(
    "atomic-requests-opt-out",
    group=TRANSACTIONS,
    title="What works: non_atomic_requests + a sync transaction",
    lesson=(
        "Mark the async view with `@transaction.non_atomic_requests` so ATOMIC_REQUESTS leaves "
        "it alone, and put the transaction in a sync function called through sync_to_async: "
        "every statement then runs in one atomic block on the request's thread. " + ATOMIC_NOTE
    ),
    twin="atomic-requests-async",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("sql-one-after-another", "threads_per_request", "==", 1, "the whole transaction on one thread"),
    ),
)
async def atomic_requests_opt_out(request: HttpRequest) -> HttpResponse:
    return await OPTED_OUT_HANDLER.handle(request)
