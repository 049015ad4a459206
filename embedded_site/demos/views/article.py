"""The article's code: snippets from the blog post "深入浅出 Django 异步编程", run as written.

Each snippet sits next to a twin showing the code that works in real Django.
"""

from __future__ import annotations

import functools

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


# -- The article's advice: "install django-async-orm for async_all()" ---------------------------
#
# django-async-orm 0.1.12 is installed (requirements.txt) as the article says. Its docs say to add
# "django_async_orm" to INSTALLED_APPS, whose ready() replaces every model's ``objects`` with its
# own manager. The lab does not let it patch every model (the other demos measure stock Django);
# these demos build the very manager its patch_manager() would install, for Book only, from the
# library's own factory. The first demo shows what its install does on its own.

LIBRARY = "django-async-orm"


@functools.cache
def _library_manager():
    """Book's manager as django_async_orm's patch_manager() makes it (its own factory), made once."""
    from django_async_orm.utils import mixin_async_manager_factory

    manager = mixin_async_manager_factory(Book)()
    manager.model = Book
    return manager


@functools.cache
def _undeclared_dependency() -> tuple[list[str], bool]:
    """What django-async-orm declares, and whether its source imports channels (read once)."""
    import importlib.metadata
    import importlib.util

    declared = importlib.metadata.requires(LIBRARY) or []
    source = importlib.util.find_spec("django_async_orm.query").origin
    with open(source, encoding="utf-8") as f:
        return declared, "from channels" in f.read()


@demo(
    "article-async-orm-install",
    group=ARTICLE,
    title="Installing django-async-orm as its docs say",
    lesson=(
        "`pip install django-async-orm` (0.1.12, the latest) installs no dependency: its metadata "
        "declares none. But its query module starts with `from channels.db import "
        "database_sync_to_async`, so adding it to INSTALLED_APPS fails at start-up with "
        "ModuleNotFoundError unless Django Channels happens to be installed. The lab installs "
        "channels so the next demos can run; this one reads the installed package's metadata and "
        "source, and answers 500 with the import the library needs but does not declare."
    ),
    expect_status=500,
    attribution=ATTRIBUTION,
    checks=(
        found("all-failed", "every request reports the undeclared dependency"),
        evidence("all-failed", "cause", "contains", "channels", "the missing dependency is channels"),
    ),
)
async def article_async_orm_install(request: HttpRequest) -> HttpResponse:
    import importlib.metadata

    declared, imports_channels = _undeclared_dependency()
    if imports_channels and not any(r.lower().startswith("channels") for r in declared):
        raise ImportError(
            f"{LIBRARY} {importlib.metadata.version(LIBRARY)} imports channels (django_async_orm/query.py) "
            f"but declares no dependency on it (requires: {declared or 'nothing'}): a plain pip install "
            "fails at start-up with ModuleNotFoundError: No module named 'channels'"
        )
    return JsonResponse({"declared": declared})


@demo(
    "article-async-orm-async-all",
    group=ARTICLE,
    title="The article's `await MyModel.objects.async_all()`, with django-async-orm",
    lesson=(
        "With the library, the article's line works, through threads, and holds the event loop. "
        "async_all() runs `self.all` through channels' database_sync_to_async: a thread hop that "
        "only builds a lazy queryset, no query. len() then evaluates it with the library's "
        "_fetch_all, which runs the query in a new one-thread pool and waits for it inside a "
        "`with` block on the loop's thread: no error, but every request in flight waits for each "
        "query (red shading). Stock Django: `[b async for b in Book.objects.all()]` (the twin)."
    ),
    twin="article-async-all-fixed",
    attribution=ATTRIBUTION,
    checks=(
        stat("errors", "==", 0, "no request fails: the line works"),
        found("loop-blocked", "the loop was held while the queries ran"),
        evidence("loop-blocked", "culprits", "contains", "in article_async_orm_async_all", "held at the len() line"),
    ),
)
async def article_async_orm_async_all(request: HttpRequest) -> JsonResponse:
    data = await _library_manager().async_all()
    return JsonResponse({"books": len(data)})


@demo(
    "article-async-orm-async-for",
    group=ARTICLE,
    title="django-async-orm's `async for`: the query runs in a thread while the loop waits",
    lesson=(
        "Its README's way that works: `async for obj in await Model.objects.async_all()`. Its "
        "__aiter__ runs the query in a new one-thread pool and waits for it inside a `with` "
        "block, on the event loop's thread: the query does run in a thread, but the loop is "
        "held for the whole query, so every other request waits too (red shading). Stock "
        "Django's `async for` hands the query to a thread and lets the loop run meanwhile."
    ),
    params=(Param("rows", 2000, 1, 2000, "rows to fetch", " rows"),),
    twin="article-async-all-fixed",
    attribution=ATTRIBUTION,
    checks=(
        stat("errors", "==", 0, "no request fails: it works"),
        found("loop-blocked", "the loop was held while the queries ran"),
        evidence("loop-blocked", "culprits", "contains", "in article_async_orm_async_for", "held at the async for"),
    ),
)
async def article_async_orm_async_for(request: HttpRequest, rows: int) -> JsonResponse:
    result_set = await _library_manager().async_all()
    titles = [book.title async for book in result_set.order_by("-copies_sold")[:rows]]
    return JsonResponse({"titles": len(titles)})
