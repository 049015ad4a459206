"""Every demo, every kind of parameter value, over real HTTP: a clear answer, never a traceback.

Hypothesis builds the query strings (numbers in and out of range, NaN and infinities,
huge and negative numbers, random text, unknown names) and the method and guard headers;
each request goes to the session's real server.  The answer must be 200, 400, 403, 405
or the demo's own declared status; a 500 only from a demo that fails on purpose; and no
body may contain a traceback.

Values a demo would spend long on (a 9 s sleep, 5 s of CPU, a slow default) are left out
so the suite stays fast: the valid values drawn lie in the cheapest hundredth of each range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedded_site.bootstrap import setup_django

setup_django()

from embedded_site.apptoken import HEADER, app_token  # noqa: E402
from embedded_site.demos.catalogue import Demo, Param, ParamError, all_demos  # noqa: E402

DEMOS = all_demos()
FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ALLOWED = {200, 400, 403, 405}
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(str.strip)
FETCH_SITES = ["cross-site", "same-site", "same-origin", "none"]
SPECIAL = ["", " ", "nan", "NaN", "inf", "-inf", "1e309", "-0", "0x10", "1_0", "1e-320", "٣", "true", "None", "%00"]


def cheap_limit(param: Param) -> float:
    """The top of the cheapest hundredth of the parameter's range."""
    return param.minimum + max((param.maximum - param.minimum) / 100, 1 if param.kind is int else 0.0)


def costly(param: Param, raw: str) -> bool:
    """Whether ``raw`` is a valid value that would make the demo slow (a long sleep, much work)."""
    try:
        value = param.parse(raw)
    except ParamError:
        return False
    return value > cheap_limit(param)


def values(param: Param) -> st.SearchStrategy[str]:
    top = cheap_limit(param)
    if param.kind is int:
        cheap = st.integers(int(param.minimum), int(top))
        wild = st.integers(min_value=-(10**30), max_value=10**30)
    else:
        cheap = st.floats(param.minimum, top)
        wild = st.floats(allow_nan=True, allow_infinity=True)
    below_above = st.sampled_from([param.minimum - 1, param.maximum + 1, param.maximum * 10])
    return st.one_of(
        cheap.map(str),
        wild.map(repr),
        st.text(max_size=20),
        st.sampled_from(SPECIAL),
        below_above.map(str),
        st.just(str(param.minimum)),
    ).filter(lambda raw: not costly(param, raw))


def queries(demo: Demo) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A query string as a list of pairs: some of the demo's parameters, maybe a stranger."""
    known = [st.tuples(st.just(p.name), values(p)) for p in demo.params]
    stranger = st.tuples(st.text(min_size=1, max_size=12), st.text(max_size=12))
    pair = st.one_of(*known, stranger) if known else stranger
    return st.lists(pair, max_size=4)


@pytest.fixture(scope="module")
def send(lab_runner) -> Iterator[Callable[..., httpx.Response]]:
    """One keep-alive client for the whole module (building one per request costs ~30 ms)."""
    client = httpx.AsyncClient(base_url=lab_runner.lab.url, trust_env=False, timeout=30)

    def request(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return lab_runner.loop.run_until_complete(client.request(method, path, **kwargs))

    yield request
    lab_runner.loop.run_until_complete(client.aclose())


def expected_here(demo: Demo) -> int:
    """The demo's status on this SQLite test site: a PostgreSQL demo answers 503, saying so."""
    return 503 if demo.extra.get("needs") == "postgresql" else demo.expect_status


def check(demo: Demo, response: httpx.Response) -> None:
    status = response.status_code
    assert status in ALLOWED | {expected_here(demo)}, (demo.id, status, response.text[:300])
    if status == 500:
        assert demo.expect_status == 500, (demo.id, response.text[:300])
    assert "Traceback" not in response.text, (demo.id, response.text[:300])


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.id)
def test_every_parameter_value_gets_a_clear_answer(send, demo: Demo) -> None:
    @FUZZ
    @given(query=queries(demo))
    def one(query: list[tuple[str, str]]) -> None:
        # The cheapest values first: a default (3 s for client-disconnect) would be slow, and
        # of a repeated name Django keeps the last, so the drawn values still decide.
        response = send(demo.method, demo.path, params=[*_quick(demo).items(), *query], headers={HEADER: app_token()})
        check(demo, response)
        if not query and expected_here(demo) == 200:
            assert response.status_code == 200

    one()


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.id)
def test_every_method_and_guard_header_gets_a_clear_answer(send, demo: Demo) -> None:
    @FUZZ
    @given(
        method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
        token=st.one_of(st.none(), st.just(app_token()), HEADER_TEXT),
        origin=st.one_of(st.none(), HEADER_TEXT, st.just("https://evil.example")),
        fetch_site=st.one_of(st.none(), st.sampled_from(FETCH_SITES), HEADER_TEXT),
    )
    def one(method: str, token: str | None, origin: str | None, fetch_site: str | None) -> None:
        headers = {
            name: value
            for name, value in ((HEADER, token), ("Origin", origin), ("Sec-Fetch-Site", fetch_site))
            if value is not None
        }
        response = send(method, demo.path, params=_quick(demo), headers=headers)
        check(demo, response)
        foreign = origin is not None or (fetch_site is not None and fetch_site.lower() not in ("none", "same-origin"))
        if foreign:
            assert response.status_code == 403  # no random text is the site's own origin
        elif method != demo.method:
            assert response.status_code == 405
        elif demo.method == "POST" and token != app_token():
            assert response.status_code == 403

    one()


def _quick(demo: Demo) -> dict[str, str]:
    """The cheapest valid value of every parameter."""
    return {p.name: str(p.minimum) for p in demo.params}
