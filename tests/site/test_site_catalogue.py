"""The catalogue and the site around it: every demo answers as its entry says, bad input is refused."""

from __future__ import annotations

import pytest

from embedded_site.bootstrap import setup_django

setup_django()  # the view modules import models, so the catalogue needs Django set up first

from embedded_site.demos.catalogue import GROUPS, all_demos, get_demo  # noqa: E402

DEMOS = all_demos()
# Shorter waits than the defaults, so answering every demo once stays quick.
QUICK = {
    "client-disconnect": {"delay": "0"},
    "streaming": {"interval": "0"},
    "streaming-sync-iterator": {"interval": "0"},
    "server-sent-events": {"events": "3", "interval": "0.01"},
    "hop-cost": {"crossings": "10"},
}
ADDED = (
    "cpu-bound-async",
    "cpu-bound-thread",
    "client-disconnect",
    "sync-middleware-penalty",
    "task-enqueue",
    "orm-async-read",
    "orm-async-write",
    "orm-gather-serialised",
    "orm-sync-in-async",
    "orm-transaction",
    "orm-n-plus-one",
    "orm-select-related",
    "orm-async-paginator",
    "article-async-all",
    "article-async-all-fixed",
    "article-await-render",
    "article-await-render-fixed",
    "template-render",
    "template-render-thread",
    "template-lazy-queryset",
    "template-lazy-queryset-fixed",
    "fanout-sequential",
    "fanout-gather",
    "streaming",
    "middleware-startproject",
    "middleware-bare",
    "hop-cost",
    "auth-request-user",
    "auth-auser",
    "auth-alogin",
    "session-aget-aset",
    "auth-backend-native",
    "auth-backend-fallback",
    "aget-object-or-404",
    "aprefetch-related-objects",
    "aiterator-prefetch",
    "atomic-requests-async",
    "atomic-requests-opt-out",
    "cache-aget-aset",
    "signal-asend",
    "signal-asend-robust",
    "cbv-async",
    "cbv-mixed",
    "streaming-sync-iterator",
    "server-sent-events",
)


def test_every_promised_demo_is_registered() -> None:
    ids = {d.id for d in DEMOS}
    assert set(ADDED) <= ids, sorted(set(ADDED) - ids)


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.id)
def test_entry_is_complete(demo) -> None:
    assert demo.group in GROUPS
    assert demo.title and len(demo.lesson) > 80
    assert "def " in demo.source and demo.view.__name__ in demo.source
    if demo.twin is not None:
        assert get_demo(demo.twin).id == demo.twin
    for param in demo.params:
        assert param.minimum <= param.default <= param.maximum, param
    if demo.blocks_loop is not None:
        assert demo.loop_block_s({}) > 0


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.id)
def test_demo_answers_with_its_expected_status(lab_runner, demo) -> None:
    response = lab_runner.call(demo.id, params=QUICK.get(demo.id, {}))
    # The site under test runs on SQLite: a PostgreSQL demo answers 503 and says what it needs
    # (tests/engine/test_postgres.py runs them on PostgreSQL).
    expected = 503 if demo.extra.get("needs") == "postgresql" else demo.expect_status
    assert response.status_code == expected, response.text[:500]


def test_article_demos_are_attributed_to_the_article() -> None:
    for demo_id in ("article-async-all", "article-await-render"):
        assert "深入浅出 Django 异步编程" in get_demo(demo_id).attribution


def test_index_lists_every_demo(lab_runner) -> None:
    response = lab_runner.fetch("/")
    assert response.status_code == 200
    for demo in DEMOS:
        assert f"<code>{demo.id}</code>" in response.text, demo.id


def test_out_of_range_parameter_is_refused_with_a_sentence(lab_runner) -> None:
    response = lab_runner.fetch("/demo/async-sleep/", params={"delay": "99"})
    assert response.status_code == 400
    assert response.json()["error"] == "delay must be between 0.0 and 10.0 s, got 99"


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/demo/orm-n-plus-one/", {"rows": "0"}, "rows must be between 1 and 1000"),
        ("/demo/fanout-gather/", {"width": "21"}, "width must be between 1 and 20"),
        ("/demo/cpu-bound-async/", {"work": "lots"}, "work must be a whole number"),
        ("/demo/streaming/", {"interval": "nan"}, "interval must be between"),
        ("/demo/hello/", {"delay": "1"}, "hello takes no parameter delay"),
    ],
)
def test_bad_parameters_get_400_before_the_view_runs(lab_runner, path, params, message) -> None:
    response = lab_runner.fetch(path, params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_host_that_is_not_loopback_is_refused(lab_runner) -> None:
    response = lab_runner.fetch("/", headers={"Host": "example.com"})
    assert response.status_code == 400


def test_slow_upstream_waits_and_answers(lab_runner) -> None:
    response = lab_runner.fetch("/internal/slow/", params={"delay": "0.05"})
    assert response.status_code == 200
    assert response.json() == {"delay": 0.05, "answer": 42}
    assert lab_runner.fetch("/internal/slow/", params={"delay": "11"}).status_code == 400
