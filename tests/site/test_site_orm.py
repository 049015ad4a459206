"""ORM group: the async API works, hops to a thread per query, and refuses sync queries on the loop."""

from __future__ import annotations

import math

from embedded_site.tracing.spans import HOP_RUN, SQL
from tests.site.sitecheck import overlaps, pairs, spans


def _selects(server) -> list:
    return [s for s in spans(server, SQL) if s.name.lstrip().upper().startswith("SELECT")]


def test_async_read_runs_each_query_off_the_loop(lab_runner, run_demo) -> None:
    body = lab_runner.fetch("/demo/orm-async-read/", params={"rows": "7"}).json()
    assert body["books"] >= 2000 and len(body["bestsellers"]) == 7 and body["its_author"]

    record = run_demo("orm-async-read", concurrency=3, requests=6, rows=50)
    for client, server in pairs(record):
        assert client.status == 200
        queries = _selects(server)
        assert len(queries) == 4  # acount, afirst, aget, async for
        assert all(q.thread_id != record.loop_thread_id for q in queries)
        # Each query ran inside a sync_to_async hop on that same thread.
        hops = spans(server, HOP_RUN)
        for q in queries:
            assert any(h.thread_id == q.thread_id and h.start_ns <= q.start_ns <= q.end_ns <= h.end_ns for h in hops)


def test_async_write_leaves_the_table_as_it_found_it(lab_runner, run_demo) -> None:
    before = lab_runner.fetch("/demo/orm-async-read/").json()["books"]
    record = run_demo("orm-async-write", concurrency=5, requests=15)
    for client, server in pairs(record):
        assert client.status == 200, server.exception
        names = " ".join(s.name.upper() for s in spans(server, SQL))
        assert "INSERT" in names and "UPDATE" in names and "DELETE" in names
    assert lab_runner.fetch("/demo/orm-async-read/").json()["books"] == before
    body = lab_runner.call("orm-async-write").json()
    assert body["created"] is not None and body["updated"] == 1 and body["deleted"] is True


def test_gathered_orm_queries_run_one_at_a_time_on_one_thread(run_demo) -> None:
    record = run_demo("orm-gather-serialised", concurrency=3, requests=6, queries=8)
    for client, server in pairs(record):
        assert client.status == 200
        queries = _selects(server)
        assert len(queries) == 8
        assert not overlaps(queries), "gathered ORM queries overlapped: they were not serialised"
        assert len({q.thread_id for q in queries}) == 1
        assert queries[0].thread_id != record.loop_thread_id


def test_sync_query_in_async_view_raises_synchronous_only_operation(run_demo) -> None:
    record = run_demo("orm-sync-in-async", concurrency=2)
    for client, server in pairs(record):
        assert client.status == 500 and server.status == 500
        assert server.exception_type == "SynchronousOnlyOperation"
        assert "async context" in server.exception
        assert not spans(server, SQL), "Django refused before any SQL ran"


def test_transaction_swaps_stay_atomic_under_concurrency(lab_runner, run_demo) -> None:
    first = lab_runner.call("orm-transaction").json()
    record = run_demo("orm-transaction", concurrency=5, requests=10)  # an even number of swaps
    for client, server in pairs(record):
        assert client.status == 200, server.exception
        # The whole transaction ran in one hop, on one thread: BEGIN ... COMMIT together.
        statements = [s for s in spans(server, SQL)]
        assert len({s.thread_id for s in statements}) == 1
        assert statements[0].thread_id != record.loop_thread_id
        assert sum("UPDATE" in s.name.upper() for s in statements) == 2
    last = lab_runner.call("orm-transaction").json()
    # Every swap is rolled back at the end of its transaction, so ten swaps later the table is
    # as it was and one more swap answers exactly like the first one.
    assert last == first and first["rolled_back"] is True


def test_n_plus_one_makes_a_query_per_row_and_select_related_one(run_demo) -> None:
    rows = 15
    slow = run_demo("orm-n-plus-one", concurrency=2, requests=2, rows=rows)
    fast = run_demo("orm-select-related", concurrency=2, requests=2, rows=rows)
    for client, server in pairs(slow):
        assert client.status == 200
        assert len(_selects(server)) == rows + 1
        assert len(spans(server, HOP_RUN)) >= rows + 1
    for client, server in pairs(fast):
        assert client.status == 200
        (query,) = _selects(server)
        assert "JOIN" in query.name.upper()


def test_same_rows_either_way(lab_runner) -> None:
    slow = lab_runner.fetch("/demo/orm-n-plus-one/", params={"rows": "30"}).json()
    fast = lab_runner.fetch("/demo/orm-select-related/", params={"rows": "30"}).json()
    assert slow == fast and len(slow["books"]) == 30


def test_async_paginator_pages_and_clamps(lab_runner) -> None:
    page = lab_runner.fetch("/demo/orm-async-paginator/", params={"page": "3", "per_page": "7"}).json()
    assert page["page"] == 3 and len(page["titles"]) == 7 and page["has_next"] is True
    assert page["num_pages"] == math.ceil(page["count"] / 7)
    last = lab_runner.fetch("/demo/orm-async-paginator/", params={"page": "1000", "per_page": "100"}).json()
    assert last["page"] == last["num_pages"] == math.ceil(last["count"] / 100)
    assert last["has_next"] is False
    assert len(last["titles"]) == last["count"] - 100 * (last["num_pages"] - 1)


def test_async_paginator_counts_once(run_demo) -> None:
    record = run_demo("orm-async-paginator", concurrency=2, requests=2, page=2)
    for client, server in pairs(record):
        assert client.status == 200
        counts = [s for s in _selects(server) if "COUNT(" in s.name.upper()]
        assert len(counts) == 1  # acount() is cached after the first await
        assert len(_selects(server)) == 2  # the count and the page's rows
