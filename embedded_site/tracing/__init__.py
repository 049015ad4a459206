"""Server-side tracing for the embedded site: Qt-free, one clock (``perf_counter_ns``)."""

from __future__ import annotations

from .collector import TraceCollector, collector, current_request, now_ns
from .spans import LagSample, ServerRequest, Span

__all__ = [
    "LagSample",
    "ServerRequest",
    "Span",
    "TraceCollector",
    "collector",
    "current_request",
    "install",
    "now_ns",
    "span",
]

span = collector.span


def install() -> None:
    """Hook tracing into asgiref, the database layer and the template engine (once)."""
    from . import hops, sql, templates

    hops.install(collector)
    sql.install(collector)
    templates.install(collector)
