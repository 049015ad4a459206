"""PostgreSQL group: connections per request thread, CONN_MAX_AGE, the pool, max_connections,
row locks, and whether a truly async backend makes gathered queries overlap.

Every demo here needs the site on PostgreSQL (``--db postgres`` or ``--db postgres://…``);
on SQLite it answers 503 with one line saying so, before it touches the database.  Each
entry's ``extra["run_options"]`` are the database options its lesson is about (the lab's
claims test runs it with them): connection behaviour is a property of the deployment, not
of the view.
"""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from ..catalogue import POSTGRES, Param, compared, demo, evidence, found, stat
from ..models import Book

NEEDS = "needs PostgreSQL: run the lab with --db postgres (its own cluster) or --db postgres://…"
HOLD = Param("hold", 0.3, 0.0, 5.0, "seconds each request keeps its connection busy", " s")


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def needs_postgres() -> HttpResponse:
    return HttpResponse(f"This demo {NEEDS}.\n", status=503, content_type="text/plain")


def _count_and_hold(hold: float) -> int:
    books = Book.objects.count()  # opens this thread's connection
    time.sleep(hold)  # a slow view: the connection stays checked out meanwhile
    return books


@demo(
    "pg-connection-per-thread",
    group=POSTGRES,
    title="One connection per request thread",
    lesson=(
        "Django keeps one database connection per thread, and under ASGI each request's sync "
        "code runs on a thread of its own. So N requests in flight open N connections to "
        "PostgreSQL: the strip under the timeline is pg_stat_activity, sampled every 50 ms, and "
        "the finding says how many were still open when the run ended."
    ),
    params=(HOLD,),
    extra={"needs": "postgresql", "run_options": []},
    checks=(
        compared("connections", "opened", ">=", "concurrent", "one connection opened per concurrent request"),
        evidence("connections", "peak", ">=", 8, "PostgreSQL saw them open at the same time"),
    ),
)
def pg_connection_per_thread(request: HttpRequest, hold: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    return JsonResponse({"books": _count_and_hold(hold), "backend_pid": connection.connection.info.backend_pid})


@demo(
    "pg-conn-max-age",
    group=POSTGRES,
    title="CONN_MAX_AGE > 0 under ASGI: connections pile up",
    lesson=(
        "CONN_MAX_AGE keeps a thread's connection open for reuse by that thread's next request. "
        "Under WSGI the worker threads live on, so that saves a connect per request. Under ASGI "
        "a request's thread is made for it and dropped after it, so no later request can reuse "
        "its connection: every request leaves one open, until the age runs out. Django's docs "
        "say to turn persistent connections off under ASGI and use the pool instead (next demo)."
    ),
    params=(Param("hold", 0.1, 0.0, 5.0, "seconds each request keeps its connection busy", " s"),),
    extra={"needs": "postgresql", "run_options": ["--conn-max-age", "60"]},
    checks=(
        compared("connections", "opened", ">=", "concurrent", "a new connection for every concurrent request"),
        compared("connections", "left_open", ">=", "concurrent", "all of them still open after the run"),
    ),
)
def pg_conn_max_age(request: HttpRequest, hold: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    return JsonResponse({"books": _count_and_hold(hold)})


@demo(
    "pg-pool",
    group=POSTGRES,
    title="Django's connection pool caps the connections",
    lesson=(
        "With OPTIONS['pool'] (Django 5.1+, psycopg 3) a request's thread borrows a connection "
        "and gives it back when the request ends. However many threads ASGI makes, PostgreSQL "
        "sees at most the pool's max_size connections (5 here); requests beyond that wait for "
        "one to come back, which shows as longer requests, not as more connections."
    ),
    params=(HOLD,),
    extra={"needs": "postgresql", "run_options": ["--pool", "--pool-size", "5"]},
    checks=(
        evidence("connections", "peak", "<=", 5, "never more than the pool's 5 connections"),
        evidence("connections", "opened", "<=", 5, "at most 5 connections opened for the whole run"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
def pg_pool(request: HttpRequest, hold: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    return JsonResponse({"books": _count_and_hold(hold)})


@demo(
    "pg-too-many-clients",
    group=POSTGRES,
    title='Past max_connections: "too many clients"',
    lesson=(
        "A PostgreSQL server accepts max_connections clients (the lab's own cluster is started "
        "with 10 for this demo). One connection per request thread means 20 requests in flight "
        'ask for 20: the ones past the limit fail with OperationalError "sorry, too many '
        'clients already" and a 500. Run it again with --pool --pool-size 5 and every request '
        "succeeds: the pool never asks for more than 5."
    ),
    params=(HOLD,),
    extra={"needs": "postgresql", "run_options": ["--pg-max-connections", "10"], "concurrency": 20},
    checks=(
        evidence("some-failed", "exception", "==", "OperationalError", "the requests past the limit failed"),
        evidence("some-failed", "cause", "contains", "too many clients", 'with PostgreSQL\'s "too many clients"'),
    ),
)
def pg_too_many_clients(request: HttpRequest, hold: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    return JsonResponse({"books": _count_and_hold(hold)})


def _locked_update(hold: float) -> int:
    with transaction.atomic():
        book = Book.objects.select_for_update().order_by("pk").first()
        time.sleep(hold)  # work done while holding the row lock
        Book.objects.filter(pk=book.pk).update(copies_sold=book.copies_sold)  # unchanged: runs leave no trace
        return book.pk


@demo(
    "pg-select-for-update",
    group=POSTGRES,
    method="POST",
    title="select_for_update in an atomic block, via sync_to_async",
    lesson=(
        "An async view cannot open a transaction itself (atomic is sync-only), so the whole "
        "atomic block goes into one function run by sync_to_async: one thread, one connection, "
        "one transaction. select_for_update locks the row until the block commits, so requests "
        "for the same row wait for each other inside PostgreSQL: 10 requests that hold the row "
        "0.05 s each take at least 0.5 s in all, however concurrent the server is."
    ),
    params=(Param("hold", 0.05, 0.0, 2.0, "seconds the row stays locked", " s"),),
    extra={"needs": "postgresql", "run_options": []},
    checks=(
        stat("errors", "==", 0, "no request fails"),
        stat("wall_s", ">=", 0.45, "10 × 0.05 s row locks took at least 0.45 s: one at a time"),
    ),
)
async def pg_select_for_update(request: HttpRequest, hold: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    pk = await sync_to_async(_locked_update)(hold)
    return JsonResponse({"locked": pk})


QUERIES = Param("queries", 5, 1, 20, "queries gathered in one view")
SLEEP = Param("sleep", 0.2, 0.01, 2.0, "seconds each query sleeps in PostgreSQL (pg_sleep)", " s")


def _pg_sleep(seconds: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])


@demo(
    "pg-gather-thread-orm",
    group=POSTGRES,
    title="Gathered queries on Django's async ORM: one after another",
    lesson=(
        "asyncio.gather of 5 queries (each pg_sleep 0.2 s) through sync_to_async: they all go "
        "to the request's one sync thread and its one connection, so PostgreSQL runs them one "
        "after another, about 1 s per request. Compare the twin on django-async-backend."
    ),
    params=(QUERIES, SLEEP),
    twin="pg-gather-async-backend",
    extra={"needs": "postgresql", "run_options": []},
    checks=(
        found("sql-serialised", "the gathered queries never overlapped"),
        stat("latency_ms.p50", ">=", 900, "5 × 0.2 s gathered took at least 0.9 s: serialised"),
    ),
)
async def pg_gather_thread_orm(request: HttpRequest, queries: int, sleep: float) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    began = time.perf_counter_ns()
    await asyncio.gather(*(sync_to_async(_pg_sleep)(sleep) for _ in range(queries)))
    return JsonResponse({"queries": queries, "took_s": (time.perf_counter_ns() - began) / 1e9})


async def _async_pg_sleep(seconds: float) -> None:
    from django_async_backend.db import async_connections

    async with await async_connections["default"].cursor() as cursor:
        await cursor.execute("SELECT pg_sleep(%s)", [seconds])


@demo(
    "pg-gather-async-backend",
    group=POSTGRES,
    title="Gathered queries on django-async-backend: on one connection, and on one each",
    lesson=(
        "django-async-backend (6.1) runs queries on real asyncio psycopg connections, no thread. "
        "Each query wrapped in async_new_connection() gets a connection of its own and PostgreSQL "
        "runs them at once: their SQL spans overlap in the timeline, where the thread-based "
        "ORM's never do (opening 5 connections per request is the price: see the connection "
        "count, and the latency on a busy machine). Gathered without it "
        "(`separate=0`) every request fails: gather makes each query a task, and a connection "
        'belongs to the task that first used it (RuntimeError, "owned by another task").'
    ),
    params=(QUERIES, SLEEP, Param("separate", 1, 0, 1, "1: one connection per query; 0: the task's one")),
    twin="pg-gather-thread-orm",
    extra={"needs": "postgresql", "run_options": []},
    checks=(
        stat("errors", "==", 0, "no request fails"),
        compared(
            "sql-overlapped",
            "requests_with_overlap",
            "==",
            "requests_with_several_queries",
            "in every request the gathered queries overlapped",
        ),
        compared("connections", "opened", ">=", "concurrent", "a connection per query, not per request thread"),
    ),
)
async def pg_gather_async_backend(request: HttpRequest, queries: int, sleep: float, separate: int) -> HttpResponse:
    if not on_postgres():
        return needs_postgres()
    from django_async_backend.db import async_new_connection

    began = time.perf_counter_ns()
    if separate:
        await asyncio.gather(*(async_new_connection(_async_pg_sleep(sleep)) for _ in range(queries)))
    else:
        await asyncio.gather(*(_async_pg_sleep(sleep) for _ in range(queries)))
    return JsonResponse(
        {"queries": queries, "separate": bool(separate), "took_s": (time.perf_counter_ns() - began) / 1e9}
    )
