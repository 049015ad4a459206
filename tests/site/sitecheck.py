"""Helpers for the site tests: look at a run's raw record (client side, server side, spans, lag)."""

from __future__ import annotations

from engine.record import ClientRequest, RunRecord, ServerRequest, Span


def pairs(record: RunRecord) -> list[tuple[ClientRequest, ServerRequest]]:
    """Each client request with the server request it became (every one must have arrived)."""
    by_id = record.server_by_client_id()
    missing = [c.id for c in record.client if c.id not in by_id]
    assert not missing, f"client requests never seen by the server: {missing}"
    return [(c, by_id[c.id]) for c in record.client]


def spans(request: ServerRequest, kind: str) -> list[Span]:
    return sorted((s for s in request.spans if s.kind == kind), key=lambda s: s.start_ns)


def overlaps(spans_: list[Span]) -> bool:
    ordered = sorted(spans_, key=lambda s: s.start_ns)
    return any(b.start_ns < a.end_ns for a, b in zip(ordered, ordered[1:]))


def max_lag_s(record: RunRecord) -> float:
    return max((sample.lag_ns for sample in record.lag), default=0) / 1e9


def seconds(ns: int) -> float:
    return ns / 1e9
