"""ORM group: Django's async ORM API, and what it really does underneath (a thread hop per query)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.core.paginator import AsyncPaginator
from django.db import transaction
from django.db.models import Avg, Count, F, Sum
from django.http import HttpRequest, JsonResponse

from ..catalogue import ORM, Param, demo, evidence, found, not_found, stat
from ..models import Author, Book, Review

ROWS = Param("rows", 20, 1, 1000, "rows to fetch", " rows")


@demo(
    "orm-async-read",
    group=ORM,
    title="Async ORM reads: aget, afirst, acount, async for",
    lesson=(
        "The a-prefixed queryset methods (aget, afirst, acount, aaggregate...) and `async for` "
        "let an async view query the database without blocking the loop. They are not async "
        "all the way down: each one runs the ordinary sync query through sync_to_async on the "
        "request's thread. Look for one thread hop per await, and the SQL on that thread."
    ),
    params=(ROWS,),
    checks=(
        evidence("sql-one-after-another", "queries_per_request", ">=", 4, "four queries per request"),
        evidence("sql-one-after-another", "threads_per_request", "==", 1, "each request's SQL on one thread"),
    ),
)
async def orm_async_read(request: HttpRequest, rows: int) -> JsonResponse:
    total = await Book.objects.acount()
    first = await Book.objects.afirst()
    author = await Author.objects.aget(pk=first.author_id)
    bestsellers = [book.title async for book in Book.objects.order_by("-copies_sold")[:rows]]
    return JsonResponse({"books": total, "first": first.title, "its_author": author.name, "bestsellers": bestsellers})


@demo(
    "orm-async-write",
    group=ORM,
    method="POST",
    title="Async ORM writes: acreate, aupdate, adelete",
    lesson=(
        "Writes have async twins too: acreate, asave, aupdate, adelete. Each is one thread hop; "
        "acreate and asave are one statement in autocommit mode, while adelete runs an atomic "
        "block (it collects what to delete first). The view deletes the book it created, so "
        "repeated runs leave the table as they found it. SQLite takes one writer at a time, so "
        "under load these requests queue on the database lock, not on the event loop."
    ),
    checks=(
        evidence("write-lock", "writes_at_once", ">=", 2, "writes of different requests met at SQLite's lock"),
        evidence("write-lock", "lock_wait_s", ">", 0, "some of the time in writes was waiting for the lock"),
        evidence("write-lock", "on_loop", "==", 0, "no write ran on the event loop's thread"),
    ),
)
async def orm_async_write(request: HttpRequest) -> JsonResponse:
    # The book's titles carry a token of this request, so that whatever happens (an error, or
    # the client leaving: Django then cancels the view at its current await, possibly after
    # the INSERT ran but before its result came back), the finally can find its row and
    # delete it, and the table is left as it was found.
    token = uuid.uuid4().hex
    deleted = False
    try:
        author = await Author.objects.afirst()
        book = await Book.objects.acreate(
            title=f"Draft {token}", author=author, year=2026, pages=1, price=Decimal("9.99")
        )
        updated = await Book.objects.filter(pk=book.pk).aupdate(
            copies_sold=F("copies_sold") + 1, title=f"Published {token}"
        )
        created_id = book.pk
        await book.adelete()  # clean up, so the demo never grows the table (adelete also clears book.pk)
        deleted = True
    finally:
        if not deleted:
            await _delete_books_of(token)
    return JsonResponse({"created": created_id, "updated": updated, "deleted": True})


async def _delete_books_of(token: str) -> None:
    """Delete whatever rows a failed or cancelled orm-async-write request left behind.

    It runs on the request's own thread, queued after any statement of the request still in
    flight there, so it sees that statement's row.  Shielded: a second cancel (the server
    shutting down) must not stop the cleanup half-way.
    """
    await asyncio.shield(sync_to_async(_delete_titled)(token))


def _delete_titled(token: str) -> None:
    Book.objects.filter(title__endswith=f" {token}").delete()


# The titles orm-async-write gives its book (seeded books are all "The ... of ..."): what a
# process killed between that INSERT and its DELETE leaves behind, removed at the next start.
WRITE_DEMO_TITLES = r"^(Draft|Published) [0-9a-f]{32}$"


def delete_write_demo_leftovers() -> int:
    """Delete the rows of orm-async-write requests that never finished (the lab was killed)."""
    deleted, _ = Book.objects.filter(title__regex=WRITE_DEMO_TITLES).delete()
    return deleted


@demo(
    "orm-gather-serialised",
    group=ORM,
    title="asyncio.gather of ORM queries runs them one at a time",
    lesson=(
        "Gathering several ORM awaits looks parallel but is not. Every async ORM call is a "
        "thread-sensitive sync_to_async, and all of a request's thread-sensitive calls share "
        "one thread (and its one database connection), so the queries queue and run one after "
        "another: the SQL spans never overlap. Concurrency in async Django comes from serving "
        "many requests at once, not from gathering queries inside one."
    ),
    params=(Param("queries", 5, 1, 20, "ORM queries gathered at once", " queries"),),
    checks=(
        found("sql-serialised", "gathered queries ran one after another"),
        evidence("sql-serialised", "requests_with_overlap", "==", 0, "no request's queries ever overlapped"),
    ),
)
async def orm_gather_serialised(request: HttpRequest, queries: int) -> JsonResponse:
    # Each aggregate joins 6,000 reviews to their books: a few milliseconds of real work.
    stats = await asyncio.gather(
        *(
            Review.objects.filter(book__year__gte=1970 + i).aaggregate(
                reviews=Count("id"), average_rating=Avg("rating"), pages=Sum("book__pages")
            )
            for i in range(queries)
        )
    )
    return JsonResponse({"stats": stats})


@demo(
    "orm-sync-in-async",
    group=ORM,
    title="A plain sync ORM call in an async view",
    lesson=(
        "Evaluating a queryset the ordinary way inside async def would block the loop, so "
        'Django refuses: it raises SynchronousOnlyOperation ("You cannot call this from an '
        'async context - use a thread or sync_to_async.") and the request fails with 500. Use '
        "the async methods or `async for`, or move the sync code into sync_to_async."
    ),
    expect_status=500,
    twin="orm-async-read",
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "SynchronousOnlyOperation", "with SynchronousOnlyOperation"),
    ),
)
async def orm_sync_in_async(request: HttpRequest) -> JsonResponse:
    books = list(Book.objects.all()[:10])  # sync query on the event loop: Django raises
    return JsonResponse({"titles": [book.title for book in books]})


def swap_prices(first_id: int, second_id: int) -> tuple[Decimal, Decimal]:
    """Several writes that must succeed or fail together.

    The swap is rolled back at the end of the block: the demo shows a transaction at work
    without changing the catalogue, so the table is left as it was found even when the
    client leaves (the sync function runs to its end on its thread regardless) or a
    statement fails (the atomic block rolls everything back).
    """
    with transaction.atomic():
        first = Book.objects.get(pk=first_id)
        second = Book.objects.get(pk=second_id)
        first.price, second.price = second.price, first.price
        first.save(update_fields=["price"])
        second.save(update_fields=["price"])
        transaction.set_rollback(True)
    return first.price, second.price


@demo(
    "orm-transaction",
    group=ORM,
    method="POST",
    title="A transaction from an async view",
    lesson=(
        "There is no async transaction.atomic in Django: a transaction belongs to one "
        "connection, and a connection to one thread, while each async ORM call may hop to a "
        "thread on its own. Put the whole transaction in a sync function and call it with "
        "sync_to_async, so every statement runs on the same thread inside one atomic block. "
        "(`with transaction.atomic():` directly in async def raises SynchronousOnlyOperation.) "
        "The demo swaps two prices, answers with what it saw inside the transaction, then rolls "
        "it back, so the table stays as it was."
    ),
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("sql-one-after-another", "threads_per_request", "==", 1, "the whole transaction on one thread"),
    ),
)
async def orm_transaction(request: HttpRequest) -> JsonResponse:
    first_price, second_price = await sync_to_async(swap_prices)(1, 2)
    return JsonResponse({"book_1_price": str(first_price), "book_2_price": str(second_price), "rolled_back": True})


@demo(
    "orm-n-plus-one",
    group=ORM,
    title="N+1 queries, the async way",
    lesson=(
        "One query for the books, then one more per book for its author. In async code the "
        "lazy `book.author` is not even allowed (an unfetched relation raises "
        "SynchronousOnlyOperation), so the extra queries have to be written out, and each "
        "costs a query plus a thread hop. The classic N+1 problem, with a higher price per row."
    ),
    params=(ROWS,),
    twin="orm-select-related",
    checks=(evidence("sql-one-after-another", "queries_per_request", ">=", 21, "N + 1 queries (≥ 21 for 20 rows)"),),
)
async def orm_n_plus_one(request: HttpRequest, rows: int) -> JsonResponse:
    books = [book async for book in Book.objects.all()[:rows]]
    lines = []
    for book in books:
        author = await Author.objects.aget(pk=book.author_id)  # one query and one hop per book
        lines.append(f"{book.title} by {author.name}")
    return JsonResponse({"books": lines})


@demo(
    "orm-select-related",
    group=ORM,
    title="select_related: one query instead of N+1",
    lesson=(
        "The same page with select_related('author'): a single query with a JOIN fetches "
        "every book with its author, so `book.author` is already loaded and safe to use in "
        "async code. One query, one thread hop, whatever the number of rows."
    ),
    params=(ROWS,),
    twin="orm-n-plus-one",
    checks=(
        not_found("sql-one-after-another", "one query per request"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def orm_select_related(request: HttpRequest, rows: int) -> JsonResponse:
    lines = [f"{book.title} by {book.author.name}" async for book in Book.objects.select_related("author")[:rows]]
    return JsonResponse({"books": lines})


@demo(
    "orm-async-paginator",
    group=ORM,
    title="AsyncPaginator (Django 6.0+)",
    lesson=(
        "Django 6.0 added AsyncPaginator and AsyncPage: acount, anum_pages, aget_page, "
        "aget_object_list, ahas_next... The count is cached after the first await, and the "
        "page's rows are fetched only when you await aget_object_list (or iterate with async "
        "for). aget_page clamps a page number that is out of range; apage raises EmptyPage."
    ),
    params=(
        Param("page", 1, 1, 1000, "page number (past the last page shows the last page)"),
        Param("per_page", 20, 1, 100, "books per page"),
    ),
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("sql-one-after-another", "queries_per_request", ">=", 2, "a count and a page query"),
    ),
)
async def orm_async_paginator(request: HttpRequest, page: int, per_page: int) -> JsonResponse:
    paginator = AsyncPaginator(Book.objects.order_by("id"), per_page=per_page)
    current = await paginator.aget_page(page)
    books = await current.aget_object_list()
    return JsonResponse(
        {
            "page": current.number,
            "num_pages": await paginator.anum_pages(),
            "count": await paginator.acount(),
            "has_next": await current.ahas_next(),
            "titles": [book.title for book in books],
        }
    )
