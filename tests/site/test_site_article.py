"""The article's snippets, run as written, fail the way real Django makes them fail; their twins work."""

from __future__ import annotations

from embedded_site.tracing.spans import SQL, TEMPLATE
from tests.site.sitecheck import pairs, spans


def test_async_all_does_not_exist(run_demo) -> None:
    record = run_demo("article-async-all", concurrency=2)
    for client, server in pairs(record):
        assert client.status == 500
        assert server.exception_type == "AttributeError"
        assert "async_all" in server.exception
        assert not spans(server, SQL)


def test_async_all_fixed_reads_rows(lab_runner, run_demo) -> None:
    body = lab_runner.fetch("/demo/article-async-all-fixed/", params={"rows": "12"}).json()
    assert len(body["titles"]) == 12
    record = run_demo("article-async-all-fixed", concurrency=2)
    for client, server in pairs(record):
        assert client.status == 200
        (query,) = spans(server, SQL)
        assert query.thread_id != record.loop_thread_id


def test_await_render_to_string_is_a_type_error(run_demo) -> None:
    record = run_demo("article-await-render", concurrency=2)
    for client, server in pairs(record):
        assert client.status == 500
        assert server.exception_type == "TypeError"
        assert "can't be used in 'await' expression" in server.exception
        # The template had rendered completely, on the loop, before the await failed.
        (render,) = [s for s in spans(server, TEMPLATE) if s.name == "demos/article.html"]
        assert render.error is None and render.thread_id == record.loop_thread_id


def test_await_render_fixed_renders(lab_runner) -> None:
    response = lab_runner.fetch("/demo/article-await-render-fixed/")
    assert response.status_code == 200
    assert "rendered with some_data = data." in response.text
