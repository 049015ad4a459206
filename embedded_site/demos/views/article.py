"""The article's code: snippets from the blog post "深入浅出 Django 异步编程", run as written.

Each snippet sits next to a twin showing the code that works in real Django.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from ..catalogue import ARTICLE, Param, demo, evidence, found, stat
from ..models import Book

ARTICLE_TITLE = "深入浅出 Django 异步编程"
ATTRIBUTION = f"Snippet from the blog post “{ARTICLE_TITLE}”, run as written (MyModel → Book)."


@demo(
    "article-async-all",
    group=ARTICLE,
    title="The article's `await MyModel.objects.async_all()`",
    lesson=(
        "The article presents async_all() as an async ORM query method, then concedes it is "
        "not standard Django. It is not there at all: the line fails before any query is "
        "made, with AttributeError and a 500. Django's real async API is the a-prefixed methods (aget, acount, "
        "afirst...) and `async for` over an ordinary queryset; see the twin."
    ),
    expect_status=500,
    twin="article-async-all-fixed",
    attribution=ATTRIBUTION,
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "AttributeError", "with AttributeError"),
    ),
)
async def article_async_all(request: HttpRequest) -> JsonResponse:
    data = await Book.objects.async_all()
    return JsonResponse({"books": len(data)})


@demo(
    "article-async-all-fixed",
    group=ARTICLE,
    title="What works: `async for` over a queryset",
    lesson=(
        "Iterating a queryset with `async for` is how async code reads many rows in Django "
        "(4.1 and later). Slice it, as you would in sync code: an unbounded all() loads the "
        "whole table. The query itself still runs in a thread, through one sync_to_async hop."
    ),
    params=(Param("rows", 20, 1, 1000, "rows to fetch", " rows"),),
    twin="article-async-all",
    checks=(stat("errors", "==", 0, "no request fails"),),
)
async def article_async_all_fixed(request: HttpRequest, rows: int) -> JsonResponse:
    data = [book async for book in Book.objects.all()[:rows]]
    return JsonResponse({"titles": [book.title for book in data]})


@demo(
    "article-await-render",
    group=ARTICLE,
    title="The article's `await render_to_string(...)`",
    lesson=(
        "The article awaits render_to_string as if it rendered asynchronously. It is a plain "
        "sync function: it renders the whole template first, then returns a string, and "
        "awaiting a string raises TypeError, 500. The render even shows in the timeline, "
        "finished before the failure. Django has no async template rendering."
    ),
    expect_status=500,
    twin="article-await-render-fixed",
    attribution=ATTRIBUTION,
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "TypeError", "with TypeError"),
    ),
)
async def article_await_render(request: HttpRequest) -> HttpResponse:
    content = await render_to_string("demos/article.html", {"some_data": "data"})
    return HttpResponse(content)


@demo(
    "article-await-render-fixed",
    group=ARTICLE,
    title="What works: call render_to_string",
    lesson=(
        "Call it without await. Rendering is CPU work with no I/O to wait for (as long as the "
        "context holds no lazy querysets), so a small template costs well under a millisecond "
        "on the loop. For a heavy template, use `await sync_to_async(render_to_string)(...)` "
        "to keep the loop free; see the Templates group."
    ),
    twin="article-await-render",
    checks=(stat("errors", "==", 0, "no request fails"),),
)
async def article_await_render_fixed(request: HttpRequest) -> HttpResponse:
    content = render_to_string("demos/article.html", {"some_data": "data"})
    return HttpResponse(content)
