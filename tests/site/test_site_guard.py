"""Requests a web page could make the person's browser send to the lab, sent for real: refused before any view runs.

Every request here is real HTTP to the session's real server; "the database is unchanged"
is read from the real SQLite file, where the book table's AUTOINCREMENT sequence moves on
whenever orm-async-write runs at all (it deletes its row, but not the id it used).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embedded_site.bootstrap import setup_django

setup_django()

from django.conf import settings  # noqa: E402

from embedded_site.apptoken import FORM_FIELD, HEADER, app_token  # noqa: E402
from embedded_site.demos.catalogue import all_demos, get_demo  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EVIL = "https://evil.example"


def status_here(demo) -> int:
    """What the demo answers on this test site (SQLite): a PostgreSQL demo says it needs it, 503."""
    return 503 if demo.extra.get("needs") == "postgresql" else demo.expect_status


WRITERS = ("orm-transaction", "orm-async-write", "auth-alogin", "pg-select-for-update")


def db_state() -> tuple:
    """Book 1 and 2's prices, the book count and the book table's id sequence, read from the file."""
    with sqlite3.connect(settings.DATABASES["default"]["NAME"]) as db:
        prices = db.execute("SELECT id, price FROM demos_book WHERE id IN (1, 2) ORDER BY id").fetchall()
        count = db.execute("SELECT count(*) FROM demos_book").fetchone()
        sequence = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'demos_book'").fetchone()
    return prices, count, sequence


def every_row() -> dict[str, list]:
    """Every row of every table, and each table's id sequence: the whole database's content."""
    with sqlite3.connect(settings.DATABASES["default"]["NAME"]) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def token() -> dict[str, str]:
    return {HEADER: app_token()}


def own_origin(lab_runner) -> str:
    return lab_runner.lab.url  # http://127.0.0.1:PORT


# --- methods -----------------------------------------------------------------------------


def test_every_writing_demo_declares_post_and_the_others_get() -> None:
    methods = {d.id: d.method for d in all_demos()}
    assert {d for d, m in methods.items() if m == "POST"} == set(WRITERS)
    assert set(methods.values()) == {"GET", "POST"}


def test_no_get_demo_changes_the_database(lab_runner) -> None:
    """The claim behind GET: run every GET demo once and compare every row of every table."""
    quick = {
        "client-disconnect": {"delay": "0"},
        "streaming": {"interval": "0"},
        "streaming-sync-iterator": {"interval": "0"},
        "server-sent-events": {"events": "3", "interval": "0.01"},
        "hop-cost": {"crossings": "10"},
    }
    before = every_row()
    for demo in all_demos():
        if demo.method == "GET":
            assert lab_runner.call(demo.id, params=quick.get(demo.id, {})).status_code == status_here(demo)
    assert every_row() == before


@pytest.mark.parametrize("demo_id", WRITERS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "PATCH", "DELETE"])
def test_a_writing_demo_refuses_any_other_method_before_it_runs(lab_runner, demo_id, method) -> None:
    before = db_state()
    response = lab_runner.fetch(f"/demo/{demo_id}/", method, headers=token())
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    if method != "HEAD":
        assert response.json()["error"] == f"{demo_id} runs for POST only, not {method}"
    assert db_state() == before


def test_a_reading_demo_refuses_post(lab_runner) -> None:
    response = lab_runner.fetch("/demo/blocking-sleep/", "POST", params={"delay": "10"}, headers=token())
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert response.elapsed.total_seconds() < 5, "the view must not have run"


@pytest.mark.parametrize("demo_id", WRITERS)
def test_post_without_the_token_is_refused_and_writes_nothing(lab_runner, demo_id) -> None:
    before = db_state()
    for headers in ({}, {HEADER: ""}, {HEADER: "0" * 64}, {HEADER: app_token()[:-1]}):
        response = lab_runner.fetch(f"/demo/{demo_id}/", "POST", headers=headers)
        assert response.status_code == 403, headers
        assert HEADER in response.json()["error"]
    assert db_state() == before


def test_post_with_the_token_writes(lab_runner) -> None:
    before = db_state()
    response = lab_runner.fetch("/demo/orm-async-write/", "POST", headers=token())
    assert response.status_code == 200, response.text
    after = db_state()
    assert after[2][0] > before[2][0], "the view ran: it used a new book id"
    assert after[:2] == before[:2], "and left the table as it found it"


@pytest.mark.parametrize("origin", [None, "own", EVIL])
def test_an_options_preflight_never_runs_a_view(lab_runner, origin) -> None:
    headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": HEADER.lower()}
    if origin is not None:
        headers["Origin"] = own_origin(lab_runner) if origin == "own" else origin
    before = db_state()
    for demo in all_demos():
        response = lab_runner.fetch(demo.path, "OPTIONS", headers=headers)
        assert response.status_code in (403, 405), (demo.id, response.status_code)
        assert not any(h.lower().startswith("access-control-allow") for h in response.headers), demo.id
    for path in ("/", "/internal/slow/"):
        assert lab_runner.fetch(path, "OPTIONS", headers=headers).status_code in (403, 405)
    assert db_state() == before


# --- origins -----------------------------------------------------------------------------


@pytest.mark.parametrize("demo_id", WRITERS)
@pytest.mark.parametrize("origin", [EVIL, "null", "http://localhost:1", "http://127.0.0.1.evil.example"])
def test_a_foreign_origin_is_refused_even_with_the_token(lab_runner, demo_id, origin) -> None:
    before = db_state()
    response = lab_runner.fetch(f"/demo/{demo_id}/", "POST", headers={**token(), "Origin": origin})
    assert response.status_code == 403
    lines = response.text.splitlines()
    assert len(lines) == 1 and origin in lines[0] and "refused" in lines[0]
    assert db_state() == before


@pytest.mark.parametrize("site", ["cross-site", "same-site", "CROSS-SITE"])
def test_a_cross_site_fetch_is_refused_before_the_view_runs(lab_runner, site) -> None:
    start = time.perf_counter_ns()
    response = lab_runner.fetch("/demo/blocking-sleep/", params={"delay": "10"}, headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert len(response.text.splitlines()) == 1 and site in response.text
    assert (time.perf_counter_ns() - start) / 1e9 < 5, "the 10 s blocking view must not have run"
    before = db_state()
    response = lab_runner.fetch("/demo/orm-transaction/", "POST", headers={**token(), "Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert db_state() == before


def test_the_index_opened_in_the_persons_browser_works(lab_runner) -> None:
    browser = {
        "Sec-Fetch-Site": "none",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Dest": "document",
        "User-Agent": "Mozilla/5.0",
        "Accept": "text/html",
    }
    response = lab_runner.fetch("/", headers=browser)
    assert response.status_code == 200 and "<code>hello</code>" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"
    # A link on it, followed: same-origin.
    link = {**browser, "Sec-Fetch-Site": "same-origin", "Referer": own_origin(lab_runner) + "/"}
    assert lab_runner.fetch("/demo/hello/", headers=link).status_code == 200


def test_the_index_form_of_a_writing_demo_runs_it_from_the_same_origin(lab_runner) -> None:
    page = lab_runner.fetch("/", headers={"Sec-Fetch-Site": "none"}).text
    form = re.search(r'<form method="post" action="/demo/orm-transaction/">.*?</form>', page, re.S)
    assert form is not None, "the index offers orm-transaction as a POST form"
    value = re.search(rf'name="{FORM_FIELD}" value="([^"]+)"', form.group(0)).group(1)
    before = db_state()
    response = lab_runner.fetch(
        "/demo/orm-transaction/",
        "POST",
        data={FORM_FIELD: value},
        headers={"Origin": own_origin(lab_runner), "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 200, response.text
    # The view ran its swap inside a transaction and rolled it back: the table is as it was.
    assert response.json()["rolled_back"] is True
    assert db_state() == before


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
def test_the_sites_own_origin_under_any_loopback_name_may_call_it(lab_runner, name) -> None:
    origin = f"http://{name}:{lab_runner.lab.server.port}"
    assert lab_runner.fetch("/demo/hello/", headers={"Origin": origin}).status_code == 200


# --- hosts and outbound calls ------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost.", "127.0.0.1.", "localhost.:{port}", "LOCALHOST.:{port}"])
def test_a_trailing_dot_host_is_refused(lab_runner, host) -> None:
    host = host.format(port=lab_runner.lab.server.port)
    response = lab_runner.fetch("/demo/fanout-gather/", params={"width": "1", "delay": "0"}, headers={"Host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("demo_id", ["fanout-gather", "fanout-sequential"])
@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_port_in_the_host_header_is_never_contacted(lab_runner, demo_id, name) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bait:
        bait.bind(("127.0.0.1", 0))
        bait.listen(16)
        bait.settimeout(1.0)
        port = bait.getsockname()[1]
        response = lab_runner.fetch(
            f"/demo/{demo_id}/", params={"width": "3", "delay": "0"}, headers={"Host": f"{name}:{port}"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["calls"] == 3, "the upstream calls went to the lab's own server"
        with pytest.raises(TimeoutError):
            bait.accept()  # nothing connected to the port the Host header named


# --- the app's own driver ----------------------------------------------------------------


@pytest.mark.parametrize("demo_id", WRITERS)
def test_the_cli_runs_a_writing_demo_with_its_method_and_token(tmp_path, demo_id, request) -> None:
    data = tmp_path / "data"
    files = {flag: tmp_path / f"out{flag}" for flag in ("--record", "--trace", "--csv")}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(data)}
    command = [sys.executable, str(ROOT / "main.py"), "run", demo_id, "-c", "2", "-n", "4", "--loop", "asyncio"]
    command += ["--json", *(str(part) for pair in files.items() for part in pair)]
    if get_demo(demo_id).extra.get("needs") == "postgresql":
        command += ["--db", request.getfixturevalue("pg_url")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["statuses"] == {"200": 4}, summary
    # The token opens the writing demos: it must not end up in a file someone might share.
    secret = app_token((data / "secret_key").read_text().strip())
    for path in files.values():
        assert secret not in path.read_text(), path.name
    assert secret not in result.stdout + result.stderr
