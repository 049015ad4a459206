"""Templates group: Django renders templates synchronously, and where that happens matters."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..catalogue import TEMPLATES, Param, demo, evidence, found, not_found, stat
from ..models import Book

ROWS = Param("rows", 500, 1, 1000, "book rows in the rendered table", " rows")


@demo(
    "template-render",
    group=TEMPLATES,
    title="Rendering a template in an async view",
    lesson=(
        "Django's template engine is synchronous: render() called from an async view runs on "
        "the event loop's thread and holds it for the whole render. For a small page that is a "
        "millisecond and fine; for a big table it is loop time nobody else gets, and the renders "
        "of concurrent requests run back to back: at 500 rows the loop is blocked for most of "
        "the run. Watch the template span on the loop thread and the lag as rows grow."
    ),
    params=(ROWS,),
    blocks_loop=lambda p: p["rows"] * 0.00005,
    checks=(
        found("loop-blocked", "the render blocks the loop"),
        stat("blocked_share", ">=", 0.5, "renders back to back: loop blocked ≥ 50 % of the run"),
        evidence("loop-blocked", "culprits", "contains", "in template_render", "render() is among the culprits"),
    ),
)
async def template_render(request: HttpRequest, rows: int) -> HttpResponse:
    books = [book async for book in Book.objects.select_related("author")[:rows]]
    return render(request, "demos/book_table.html", {"books": books})  # renders on the loop thread


@demo(
    "template-render-thread",
    group=TEMPLATES,
    title="Rendering a template in a thread",
    lesson=(
        "The same render moved off the loop with sync_to_async runs on the request's sync "
        "thread, at the cost of a thread hop. It frees the loop only partly: rendering is pure "
        "Python and needs the GIL, which the loop thread needs too, so the two take turns "
        "(every 5 ms, Python's switch interval). The loop is late for less of the run than with "
        "render() on it, but how much less depends on how many renders run at once and on how "
        "busy the machine is: on a quiet machine a small part of the run, on a loaded one (or "
        "with this window painting beside it) most of it. Compare the loop-blocked share with "
        "the twin's. For heavy pages render less, or cache: a thread is not a CPU."
    ),
    params=(ROWS,),
    twin="template-render",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        stat("views_at_once_max", ">=", 3, "views overlapped: each render waited on its own thread, not on the loop"),
        not_found("all-failed", "the renders succeed off the loop"),
    ),
)
async def template_render_thread(request: HttpRequest, rows: int) -> HttpResponse:
    books = [book async for book in Book.objects.select_related("author")[:rows]]
    return await sync_to_async(render)(request, "demos/book_table.html", {"books": books})


@demo(
    "template-lazy-queryset",
    group=TEMPLATES,
    title="An unevaluated queryset passed to a template",
    lesson=(
        "Querysets are lazy: this one is only evaluated when the template's {% for %} loops "
        "over it, which happens inside render(), on the event loop. Django detects a sync query "
        "in an async context and raises SynchronousOnlyOperation, so the page fails with 500. "
        "In an async view, evaluate querysets before rendering."
    ),
    params=(ROWS,),
    expect_status=500,
    twin="template-lazy-queryset-fixed",
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "SynchronousOnlyOperation", "with SynchronousOnlyOperation"),
    ),
)
async def template_lazy_queryset(request: HttpRequest, rows: int) -> HttpResponse:
    books = Book.objects.select_related("author")[:rows]  # not evaluated yet
    return render(request, "demos/book_table.html", {"books": books})


@demo(
    "template-lazy-queryset-fixed",
    group=TEMPLATES,
    title="Evaluate the queryset first, then render",
    lesson=(
        "The fix: evaluate the queryset with `async for` before rendering, so the template "
        "gets a plain list and makes no queries of its own. select_related matters here too: a "
        "lazy {{ book.author }} would be a sync query during rendering."
    ),
    params=(ROWS,),
    twin="template-lazy-queryset",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        not_found("sql-one-after-another", "the template makes no queries of its own"),
        evidence(
            "loop-blocked", "culprits", "contains", "in template_lazy_queryset_fixed", "render() still blocks the loop"
        ),
    ),
)
async def template_lazy_queryset_fixed(request: HttpRequest, rows: int) -> HttpResponse:
    books = [book async for book in Book.objects.select_related("author")[:rows]]
    return render(request, "demos/book_table.html", {"books": books})
