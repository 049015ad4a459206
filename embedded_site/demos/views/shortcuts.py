"""Shortcuts & prefetch group: aget_object_or_404, aprefetch_related_objects, aiterator with prefetch."""

from __future__ import annotations

from django.db.models import aprefetch_related_objects
from django.http import HttpRequest, JsonResponse
from django.shortcuts import aget_object_or_404

from ..catalogue import SHORTCUTS, Param, demo, evidence, found, stat
from ..models import Book

ROWS = Param("rows", 20, 1, 500, "books to fetch", " books")


@demo(
    "aget-object-or-404",
    group=SHORTCUTS,
    title="aget_object_or_404 for a missing row",
    lesson=(
        "`await aget_object_or_404(Book, pk=...)` (Django 5.0+) is the async get_object_or_404: "
        "one aget() through a thread hop, and Http404 when no row matches, which Django turns "
        "into a 404 response; no 500, no traceback. The default asks for a book id that does "
        "not exist, so every request gets its 404."
    ),
    params=(Param("book", 999_999, 1, 10_000_000, "id of the book to fetch (the seed has 1 to 2000)"),),
    expect_status=404,
    checks=(
        found("all-failed", "every request is answered 404"),
        evidence("all-failed", "exception", "==", "Http404", "the view raised Http404"),
        stat("statuses.404", "==", 10, "ten 404 responses"),
    ),
)
async def aget_object_or_404_demo(request: HttpRequest, book: int) -> JsonResponse:
    found_book = await aget_object_or_404(Book, pk=book)
    return JsonResponse({"title": found_book.title})


@demo(
    "aprefetch-related-objects",
    group=SHORTCUTS,
    title="aprefetch_related_objects on fetched rows",
    lesson=(
        "Rows already fetched can have their relations loaded afterwards with "
        '`await aprefetch_related_objects(books, "author", "reviews")` (Django 5.0+): one '
        "query per relation, however many rows, instead of one per row. After it, "
        "`book.author` and `book.reviews.all()` read the cache, which async code may touch. "
        "Three queries per request here: books, authors, reviews."
    ),
    params=(ROWS,),
    checks=(
        evidence("sql-one-after-another", "queries_per_request", "==", 3, "three queries, not 1 + 2 × rows"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def aprefetch_related_objects_demo(request: HttpRequest, rows: int) -> JsonResponse:
    books = [book async for book in Book.objects.all()[:rows]]
    await aprefetch_related_objects(books, "author", "reviews")
    return JsonResponse(
        {"books": [{"title": b.title, "author": b.author.name, "reviews": len(b.reviews.all())} for b in books]}
    )


@demo(
    "aiterator-prefetch",
    group=SHORTCUTS,
    title="aiterator() with prefetch_related",
    lesson=(
        '`async for book in Book.objects.prefetch_related("reviews").aiterator(chunk_size=...)` '
        "reads the rows in chunks from one query and, since Django 5.0, runs the prefetch for each "
        "chunk (before 5.0 aiterator() ignored prefetch_related). With 100 books in chunks of "
        "25: one books query and one reviews query per chunk, five queries, not 101."
    ),
    params=(
        Param("rows", 100, 1, 2000, "books to iterate", " books"),
        Param("chunk", 25, 1, 2000, "chunk_size: rows per fetch and per prefetch", " rows"),
    ),
    checks=(
        evidence("sql-one-after-another", "queries_per_request", "==", 5, "1 books query + 1 per chunk"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def aiterator_prefetch(request: HttpRequest, rows: int, chunk: int) -> JsonResponse:
    reviews = 0
    books = Book.objects.filter(pk__lte=rows).prefetch_related("reviews")
    async for book in books.aiterator(chunk_size=chunk):
        reviews += len(book.reviews.all())  # from the chunk's prefetch: no query here
    return JsonResponse({"books": rows, "reviews": reviews})
