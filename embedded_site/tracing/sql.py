"""Record every SQL query as a span, with its text and the thread that ran it.

Django keeps one connection object per thread, so the wrapper is added to each
connection as it connects (``connection_created``), not once globally.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any

from django.db.backends.signals import connection_created

from .collector import TraceCollector, now_ns
from .spans import SQL

MAX_SQL_CHARS = 400


def install(collector: TraceCollector) -> None:
    def record_query(execute, sql, params, many, context):
        start = now_ns()
        error = None
        result = None
        try:
            result = execute(sql, params, many, context)
            return _awaited(result, collector, sql, start) if inspect.isawaitable(result) else result
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if not inspect.isawaitable(result):
                collector.add_span(SQL, collector.shared(str(sql)[:MAX_SQL_CHARS]), start, now_ns(), error)

    def on_connect(sender, connection, **kwargs):
        if record_query not in connection.execute_wrappers:
            connection.execute_wrappers.append(record_query)

    connection_created.connect(on_connect, weak=False, dispatch_uid="explorer-sql-trace")


async def _awaited(pending: Awaitable[Any], collector: TraceCollector, sql: str, start: int) -> Any:
    """An async backend's execute (django-async-backend) returns a coroutine: the query runs
    when it is awaited, so the span ends when it is done, not when the coroutine was made."""
    error = None
    try:
        return await pending
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        collector.add_span(SQL, collector.shared(str(sql)[:MAX_SQL_CHARS]), start, now_ns(), error)
