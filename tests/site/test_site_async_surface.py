"""Django's async surface in the catalogue, over real HTTP: the middleware stack's hops, signals'
order, the sync-iterator warning, and the pages a browser gets (error pages name the real
exception and the fix, never a traceback or Django's debug page)."""

from __future__ import annotations

import re
import warnings

import pytest

from embedded_site.bootstrap import setup_django

setup_django()

from embedded_site.demos.catalogue import all_demos, get_demo  # noqa: E402
from embedded_site.tracing.spans import HOP_WAIT  # noqa: E402

from .sitecheck import pairs, spans  # noqa: E402

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ON_PURPOSE_500 = [d for d in all_demos() if d.expect_status == 500]
DEBUG_PAGE = ("Traceback", "You're seeing this error", "DEBUG = True", "Django settings")


def hops_per_request(record) -> list[int]:
    return [len(spans(server, HOP_WAIT)) for _, server in pairs(record)]


def test_startproject_middleware_costs_thirteen_hops_more_than_a_bare_stack(run_demo) -> None:
    stack = hops_per_request(run_demo("middleware-startproject", concurrency=2, requests=4))
    bare = hops_per_request(run_demo("middleware-bare", concurrency=2, requests=4))
    assert set(bare) == {2}, bare
    assert set(stack) == {15}, stack


def test_asend_runs_the_sync_receivers_first_in_one_thread_then_the_async_ones_on_the_loop(lab_runner) -> None:
    ran = lab_runner.call("signal-asend").json()["ran"]
    assert [entry.split(" in ")[0] for entry in ran[:2]] == ["sync_audit", "sync_count"]
    sync_threads = {entry.split(" in ")[1] for entry in ran[:2]}
    assert len(sync_threads) == 1 and sync_threads != {"event loop"}
    assert sorted(ran[2:]) == ["async_index in event loop", "async_notify in event loop"]


def test_asend_robust_hands_back_the_exception_and_runs_the_rest(lab_runner) -> None:
    response = lab_runner.call("signal-asend-robust")
    assert response.status_code == 200
    answers = dict(response.json()["responses"])
    assert answers["async_broken"] == "ValueError('the search index is down')"
    assert answers["sync_audit"] == "'audited'" and answers["async_notify"] == "'notified'"


def test_a_sync_iterator_under_asgi_warns(lab_runner) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert lab_runner.call("streaming-sync-iterator", params={"interval": "0"}).status_code == 200
    texts = [str(w.message) for w in caught]
    assert any("StreamingHttpResponse must consume synchronous iterators" in t for t in texts), texts


def test_hop_cost_reports_microseconds_per_crossing(lab_runner) -> None:
    answer = lab_runner.call("hop-cost", params={"crossings": "200"}).json()
    assert answer["crossings"] == 200
    assert 1 < answer["us_per_crossing"] < 5000  # microseconds, on a loaded machine too


@pytest.mark.parametrize("demo", ON_PURPOSE_500, ids=lambda d: d.id)
def test_a_demo_failing_on_purpose_shows_the_real_exception_and_the_fix(lab_runner, demo) -> None:
    response = lab_runner.fetch(demo.path, headers=BROWSER)
    assert response.status_code == 500
    page = response.text
    assert "Server Error (500)" not in page
    exception = re.search(r"the view raised <code>(\w+)</code>", page)
    assert exception, page[:800]
    for check in demo.checks:
        if check.key == "exception":
            assert exception.group(1) == check.bound
    assert "fails on purpose" in page
    if demo.twin:
        assert f'href="{get_demo(demo.twin).path}"' in page
    for marker in DEBUG_PAGE:
        assert marker not in page


def test_the_error_page_carries_the_message(lab_runner) -> None:
    page = lab_runner.fetch("/demo/atomic-requests-async/").text
    assert "RuntimeError</code>: You cannot use ATOMIC_REQUESTS with async views." in page


def test_a_missing_row_is_a_404_page_naming_http404(lab_runner) -> None:
    response = lab_runner.fetch("/demo/aget-object-or-404/", headers=BROWSER)
    assert response.status_code == 404
    assert "Http404</code>: No Book matches the given query." in response.text


def test_an_unknown_url_keeps_djangos_plain_404(lab_runner) -> None:
    response = lab_runner.fetch("/no/such/page/", headers=BROWSER)
    assert response.status_code == 404
    assert "Not Found" in response.text and "<code>" not in response.text


def test_a_demo_page_in_a_browser_says_what_it_demonstrates_and_links_its_twin(lab_runner) -> None:
    demo = get_demo("middleware-bare")
    page = lab_runner.fetch(demo.path, headers=BROWSER).text
    assert "What it demonstrates" in page and "MIDDLEWARE = []" in page
    assert f'href="{get_demo(demo.twin).path}"' in page
    assert "Hello, async world!" in page  # the view's own answer
    assert lab_runner.call(demo.id).json() == {"message": "Hello, async world!"}  # the load driver's is bare


def test_the_index_renders_inline_code(lab_runner) -> None:
    page = lab_runner.fetch("/").text
    assert "`" not in page
    assert "<code>await request.auser()</code>" in page
    assert 'Its twin: <a href="#auth-auser">' in page


def test_the_own_settings_handlers_leave_the_sites_settings_alone(lab_runner, run_demo) -> None:
    from django.conf import settings
    from django.db import connections

    before = list(settings.MIDDLEWARE)
    assert lab_runner.call("middleware-startproject").status_code == 200
    assert lab_runner.call("atomic-requests-async").status_code == 500
    assert list(settings.MIDDLEWARE) == before
    assert connections.settings["default"]["ATOMIC_REQUESTS"] is False
    assert set(hops_per_request(run_demo("hello", concurrency=2, requests=2))) == {2}


def test_a_database_with_only_contrib_tables_is_not_the_labs(tmp_path) -> None:
    """auth and sessions tables count as the lab's own only in a database the lab migrated."""
    import sqlite3

    from embedded_site.datadir import why_not_ours

    foreign = tmp_path / "project.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT)")
        db.execute("INSERT INTO django_migrations (app, name) VALUES ('auth', '0001_initial')")
        db.execute("CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username TEXT)")
    assert why_not_ours(foreign) == "belongs to another application (table auth_user)"


def test_a_demo_page_lists_the_claims_the_window_checks(lab_runner) -> None:
    demo = get_demo("middleware-startproject")
    page = lab_runner.fetch(demo.path, headers=BROWSER).text
    for check in demo.checks:
        assert f"<li>{check.text}</li>" in page
