"""Templates group: where a render runs, and a lazy queryset evaluated during rendering."""

from __future__ import annotations

from embedded_site.tracing.spans import SQL, TEMPLATE
from tests.site.sitecheck import pairs, spans


def _render(server):
    return next(s for s in spans(server, TEMPLATE) if s.name == "demos/book_table.html")


def test_render_in_async_view_runs_on_the_loop_thread(run_demo) -> None:
    record = run_demo("template-render", concurrency=2, requests=4, rows=300)
    for client, server in pairs(record):
        assert client.status == 200 and client.bytes > 300 * 100
        assert _render(server).thread_id == record.loop_thread_id


def test_render_via_sync_to_async_runs_off_the_loop(run_demo) -> None:
    record = run_demo("template-render-thread", concurrency=2, requests=4, rows=300)
    for client, server in pairs(record):
        assert client.status == 200 and client.bytes > 300 * 100
        assert _render(server).thread_id != record.loop_thread_id


def test_both_renders_produce_the_same_page(lab_runner) -> None:
    on_loop = lab_runner.fetch("/demo/template-render/", params={"rows": "25"})
    in_thread = lab_runner.fetch("/demo/template-render-thread/", params={"rows": "25"})
    assert on_loop.text == in_thread.text
    assert "<h1>25 books</h1>" in on_loop.text and on_loop.text.count("<tr class=") == 25


def test_lazy_queryset_fails_inside_the_render(run_demo) -> None:
    record = run_demo("template-lazy-queryset", concurrency=2)
    for client, server in pairs(record):
        assert client.status == 500
        assert server.exception_type == "SynchronousOnlyOperation"
        render = _render(server)
        assert render.error and render.error.startswith("SynchronousOnlyOperation")
        assert not spans(server, SQL), "the query was refused before it reached the database"


def test_lazy_queryset_fixed_evaluates_before_rendering(run_demo) -> None:
    record = run_demo("template-lazy-queryset-fixed", concurrency=2, rows=40)
    for client, server in pairs(record):
        assert client.status == 200
        render = _render(server)
        assert render.error is None
        (query,) = spans(server, SQL)
        assert query.end_ns <= render.start_ns  # every row was fetched before rendering began
