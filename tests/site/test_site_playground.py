"""Playground views mounted on the running site and run through the real server, as the window does.

Mounting is the app's own Python call (``embedded_site.playground.mount``); every request
here is real HTTP to the session's real uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from embedded_site.bootstrap import setup_django

setup_django()

from django.urls import get_resolver  # noqa: E402

from embedded_site import playground  # noqa: E402
from embedded_site.playground import MountError  # noqa: E402

GOOD = """\
import asyncio

from django.http import JsonResponse

from embedded_site.demos.models import Book
from embedded_site.tracing import span

PARAMS = {"delay": (0.3, 0.0, 5.0, "seconds to wait"), "rows": (2, 1, 10)}


async def view(request, delay, rows):
    with span("await", "asyncio.sleep"):
        await asyncio.sleep(delay)
    titles = [b.title async for b in Book.objects.order_by("id")[:rows]]
    return JsonResponse({"slept": delay, "titles": titles})
"""

RAISES = """\
def helper(n):
    return {"a": 1}[n]


def view(request):
    return helper("missing")
"""


@pytest.fixture(autouse=True)
def _unmount_after():
    yield
    for slug in ("good", "broken", "raises", "sync-one"):
        playground.unmount(slug)


def test_a_good_view_is_served_timed_and_found_like_a_demo(lab_runner) -> None:
    demo = playground.mount("good", GOOD)
    assert demo.id == "playground:good" and demo.path == "/playground/good/" and demo.is_async
    assert [p.name for p in demo.params] == ["delay", "rows"]
    response = lab_runner.fetch("/playground/good/?delay=0.05&rows=3")
    assert response.status_code == 200 and len(response.json()["titles"]) == 3

    record = lab_runner.run("playground:good", concurrency=10, requests=10, params={"delay": 0.3})
    assert [c.status for c in record.client] == [200] * 10
    assert all(c.latency_ns >= 300_000_000 for c in record.client)
    stats = record.final_stats()
    ids = {f["id"] for f in stats.findings}
    assert "views-at-once" in ids  # ten awaits overlapped on the loop, as async-sleep's do
    assert stats.wall_s < 10 * 0.3  # concurrent, not one after another
    server = [r for r in record.server if r.path == "/playground/good/"]
    assert len(server) == 10
    assert all(any(s.kind == "view" and s.name == "playground:good" for s in r.spans) for r in server)
    assert all(any(s.kind == "await" and s.name == "asyncio.sleep" for s in r.spans) for r in server)
    assert all(any(s.kind == "sql" for s in r.spans) for r in server)


def test_a_parameter_out_of_its_declared_bounds_is_refused_before_the_view_runs(lab_runner) -> None:
    playground.mount("good", GOOD)
    response = lab_runner.fetch("/playground/good/?delay=99")
    assert response.status_code == 400
    assert "delay must be between 0.0 and 5.0" in response.json()["error"]


def test_mounting_again_replaces_the_view_without_a_restart(lab_runner) -> None:
    playground.mount(
        "sync-one", "from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('one')\n"
    )
    assert lab_runner.fetch("/playground/sync-one/").text == "one"
    playground.mount(
        "sync-one", "from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('two')\n"
    )
    assert lab_runner.fetch("/playground/sync-one/").text == "two"
    playground.unmount("sync-one")
    assert lab_runner.fetch("/playground/sync-one/").status_code == 404


@pytest.mark.parametrize(
    ("source", "line", "text"),
    [
        ("from django.http import HttpResponse\n\ndef view(request):\n    return HttpResponse(\n", 4, "SyntaxError"),
        ("import os\nimport no_such_module_here\n\ndef view(request):\n    pass\n", 2, "no_such_module_here"),
        ("def view(request):\n    pass\n\nX = 1 / 0\n", 4, "ZeroDivisionError"),
        ("PARAMS = {'n': (1, 5, 9)}\ndef view(request, n):\n    pass\n", 1, "not between 5 and 9"),
        ("PARAMS = {'n': (5, 1, 9)}\n\ndef view(request):\n    pass\n", 3, "must take (request, n)"),
    ],
)
def test_a_snippet_that_does_not_mount_names_its_line_and_the_site_keeps_serving(
    lab_runner, source: str, line: int, text: str
) -> None:
    playground.mount(
        "broken", "from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('kept')\n"
    )
    with pytest.raises(MountError) as caught:
        playground.mount("broken", source)
    assert caught.value.line == line, caught.value
    assert text in str(caught.value)
    assert str(caught.value).startswith(f"playground/broken.py:{line}: ")
    # The site still serves: a demo, and the view mounted before at that name.
    assert lab_runner.call("hello").status_code == 200
    assert lab_runner.fetch("/playground/broken/").text == "kept"


def test_a_view_that_raises_is_a_recorded_500_with_its_traceback(lab_runner) -> None:
    playground.mount("raises", RAISES)
    record = lab_runner.run("playground:raises", concurrency=2, requests=2)
    assert [c.status for c in record.client] == [500, 500]
    failed = [r for r in record.server if r.path == "/playground/raises/"]
    assert len(failed) == 2
    for request in failed:
        assert request.exception_type == "KeyError"
        assert 'File "playground/raises.py", line 6, in view' in request.traceback
        assert 'File "playground/raises.py", line 2, in helper' in request.traceback
        assert 'return {"a": 1}[n]' in request.traceback  # the snippet's own line, from linecache


def test_a_playground_url_is_refused_cross_site_before_the_view_runs(lab_runner) -> None:
    playground.mount("raises", RAISES)  # a view that would answer 500 if it ran
    evil = lab_runner.fetch("/playground/raises/", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "only the explorer's own pages" in evil.text
    site = lab_runner.fetch("/playground/raises/", headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403


def test_no_http_route_mounts_code(lab_runner) -> None:
    """Only the app's own Python call mounts: nothing the site answers takes source code."""
    code = "from django.http import HttpResponse\ndef view(request):\n    return HttpResponse('pwned')\n"
    for method in ("GET", "POST", "PUT"):
        for path in ("/playground/new/", "/playground/", "/playground/new/mount/"):
            response = lab_runner.fetch(path, method, data={"source": code, "code": code})
            assert response.status_code == 404
    assert "playground:new" not in playground.mounted()
    routes = [str(p.pattern) for p in get_resolver().url_patterns]
    assert [r for r in routes if "playground" in r] == [playground.ROUTE]


def test_the_starters_mount_and_answer(lab_runner) -> None:
    for slug, source in (("good", playground.ASYNC_STARTER), ("sync-one", playground.SYNC_STARTER)):
        demo = playground.mount(slug, source)
        response = lab_runner.fetch(demo.path, params={"delay": "0"})
        assert response.status_code == 200, response.text
    assert playground.mounted()["playground:good"].is_async
    assert not playground.mounted()["playground:sync-one"].is_async


def test_every_demo_copied_into_the_playground_mounts_with_its_parameters_and_method() -> None:
    from embedded_site.demos.catalogue import all_demos

    for demo in all_demos():
        copy = playground.mount("copy", playground.snippet_for(demo))
        assert [(p.name, p.default, p.minimum, p.maximum) for p in copy.params] == [
            (p.name, p.default, p.minimum, p.maximum) for p in demo.params
        ], demo.id
        assert copy.method == demo.method and copy.is_async == demo.is_async, demo.id
    playground.unmount("copy")


def test_a_copied_demo_answers_as_the_demo_does(lab_runner) -> None:
    from embedded_site.demos.catalogue import get_demo

    copy = playground.mount("copy", playground.snippet_for(get_demo("orm-n-plus-one")))
    try:
        original = lab_runner.call("orm-n-plus-one", params={"rows": 3})
        copied = lab_runner.fetch(copy.path, params={"rows": 3})
        assert copied.status_code == original.status_code == 200
        assert copied.json() == original.json()
    finally:
        playground.unmount("copy")


def test_a_snippet_is_compared_with_a_demo_in_one_scenario(lab_runner) -> None:
    """A scenario stream may be a playground view: its latency stands beside the demo's."""
    from engine.config import Stream
    from engine.plan import make_config
    from engine.scenario_file import _composed, register
    from engine.scenarios import Scenario

    playground.mount("good", GOOD)
    register(
        Scenario(
            "snippet-vs-demo",
            "my view beside async-sleep",
            "",
            (
                Stream("playground:good", {"delay": 0.4}, concurrency=5, requests=5),
                Stream("async-sleep", {"delay": 0.1}, concurrency=5, requests=5),
            ),
        )
    )
    try:
        config = make_config("snippet-vs-demo")
        record = lab_runner.loop.run_until_complete(lab_runner.lab.run(config))
    finally:
        _composed.pop("snippet-vs-demo", None)
    assert all(c.status == 200 for c in record.client) and len(record.client) == 10
    evidence = next(f for f in record.final_stats().findings if f["id"] == "per-demo")["evidence"]
    assert evidence["playground:good_p50_ms"] >= 400
    assert 100 <= evidence["async-sleep_p50_ms"] < evidence["playground:good_p50_ms"]


def test_a_failed_mount_leaves_the_served_view_and_its_traceback_lines_as_they_were(lab_runner) -> None:
    playground.mount("raises", RAISES)
    with pytest.raises(MountError):
        playground.mount("raises", "def view(request):\n    return 1\n\nundefined_name\n")
    record = lab_runner.run("playground:raises", concurrency=1, requests=1)
    request = next(r for r in record.server if r.path == "/playground/raises/")
    assert request.status == 500
    assert 'return helper("missing")' in request.traceback  # the served code's line, not the rejected one's
