"""A real project made at test time by ``django-admin startproject``, served and run by the
lab from the terminal, as a person would: ``main.py list|run|serve --project PATH``."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.engine.mainproc import ROOT, start_main

from .makeproject import BLOCKING_LINE, make_project, project_env


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("byo") / "mysite-project")


@pytest.fixture
def env(tmp_path):
    return project_env(tmp_path)


def cli(env, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit 2, one line on stderr, no traceback, nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return lines[0]


def test_list_walks_the_urlconf_with_includes_namespaces_and_converters(project, env):
    result = cli(env, "list", "--project", str(project), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["settings"] == "mysite.settings"  # read from manage.py
    routes = {r["pattern"]: r for r in doc["routes"]}
    blocking = routes["shop/blocking/"]
    assert blocking["name"] == "shop:blocking"
    assert blocking["path"] == "/shop/blocking/"
    assert blocking["async"] is True
    assert blocking["source"] == "shop/views.py:9"
    assert routes["shop/page/"]["async"] is False
    item = routes["shop/item/<int:pk>/"]
    assert item["path"] is None and item["args"] == {"pk": "int"}
    archive = routes["shop/^archive/(?P<year>[0-9]{4})/$"]
    assert archive["args"] == {"year": "regex"}
    assert "admin/" in routes  # the project's own admin, from its own URLconf
    text = cli(env, "list", "--project", str(project))
    assert text.returncode == 0 and "/shop/items/" in text.stdout and "shop/views.py:14" in text.stdout


def run_json(env, project: Path, url: str, *extra: str) -> tuple[dict, str]:
    result = cli(env, "run", url, "--project", str(project), "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def finding(doc: dict, finding_id: str) -> dict | None:
    return next((f for f in doc["findings"] if f["id"] == finding_id), None)


def test_blocking_view_culprit_names_the_projects_own_file_and_line(project, env, tmp_path):
    record_file = tmp_path / "blocking.json"
    doc, stderr = run_json(env, project, "/shop/blocking/", "-c", "4", "--record", str(record_file))
    assert "database: sqlite3" in stderr and "the project's own database" in stderr
    assert doc["demo"] == "/shop/blocking/" and doc["statuses"] == {"200": 4}
    blocked = finding(doc, "loop-blocked")
    assert blocked is not None, doc["findings"]
    assert blocked["evidence"]["culprit"] == f"time.sleep, shop/views.py:{BLOCKING_LINE} in blocking"
    # Four 0.3 s sleeps on the loop cannot overlap: the loop was held for about 1.2 s.
    assert doc["blocked_ms"] >= 4 * 300 * 0.9
    assert doc["views_at_once_max"] == 1
    # The view's step that held the loop is a measured blocking span on the loop's thread,
    # so the bar is drawn "blocking the loop" where the sleep ran.
    record = json.loads(record_file.read_text())
    for request in record["server"]:
        held = [s for s in request["spans"] if s["kind"] == "blocking"]
        assert len(held) == 1 and held[0]["name"] == "blocking ran without awaiting"
        assert held[0]["thread_id"] == record["loop_thread_id"]
        assert 300 <= (held[0]["end_ns"] - held[0]["start_ns"]) / 1e6 < 300 * 3


def test_async_orm_view_shows_its_queries_one_after_another_on_a_thread(project, env):
    doc, _ = run_json(env, project, "/shop/items/", "-c", "4")
    assert doc["statuses"] == {"200": 4}
    assert doc["sql"]["queries_per_request"] == 2.0  # acount() and the async iteration
    assert finding(doc, "sql-one-after-another") is not None, doc["findings"]
    assert finding(doc, "thread-hops") is not None
    blocked = finding(doc, "loop-blocked")
    assert blocked is None or "shop/views.py" not in (blocked["evidence"].get("culprit") or "")


def test_template_view_records_its_render_and_runs_off_the_loop(project, env, tmp_path):
    record_file = tmp_path / "page.json"
    doc, _ = run_json(env, project, "/shop/page/", "-c", "3", "--record", str(record_file))
    assert doc["statuses"] == {"200": 3}
    record = json.loads(record_file.read_text())
    loop_thread = record["loop_thread_id"]
    for request in record["server"]:
        kinds = {(s["kind"], s["name"]) for s in request["spans"]}
        assert ("template", "shop/page.html") in kinds
        assert ("view", "page") in kinds
        view = next(s for s in request["spans"] if s["kind"] == "view")
        assert view["thread_id"] != loop_thread  # a sync view runs in a thread
        assert any(s["kind"] == "sql" and "shop_item" in s["name"] for s in request["spans"])
    # The sync view never held the loop (a busy machine may still stall it elsewhere).
    blocked = finding(doc, "loop-blocked")
    assert blocked is None or "shop/views.py" not in (blocked["evidence"].get("culprit") or "")


def test_a_url_with_arguments_runs_when_they_are_given(project, env):
    doc, _ = run_json(env, project, "/shop/item/7/", "-c", "2")
    assert doc["statuses"] == {"200": 2}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "/nowhere/"], "no URL pattern of mysite-project matches '/nowhere/'"),
        (["run", "shop/items/"], "starting with '/'"),
        (["run", "/shop/items/", "--method", "BREW"], "method must be one of"),
        (["run", "/shop/items/", "--param", "x=1"], "query in the URL itself"),
        (["list", "--settings", "nope.settings"], "no settings module 'nope.settings'"),
    ],
)
def test_bad_urls_and_modules_are_one_line(project, env, args, expected):
    command = (
        [args[0], *args[1:2], "--project", str(project), *args[2:]]
        if args[0] == "run"
        else [*args[:1], "--project", str(project), *args[1:]]
    )
    assert expected in one_line(cli(env, *command))


def test_a_project_url_without_a_project_is_one_line(env):
    assert "give the project with --project PATH" in one_line(cli(env, "run", "/shop/items/"))


def broken_copy(project: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "broken"
    shutil.copytree(project, copy)
    return copy


def test_a_missing_dependency_is_named_with_the_way_to_install_it(project, env, tmp_path):
    copy = broken_copy(project, tmp_path)
    settings = copy / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace("    'shop',\n", "    'shop',\n    'rest_framework',\n"))
    line = one_line(cli(env, "list", "--project", str(copy)))
    assert line == (
        f"error: the project needs module 'rest_framework', not installed here: "
        f"run ./explorer --project {copy} --install"
    )
    line = one_line(cli(env, "run", "/shop/items/", "--project", str(copy)))
    assert "'rest_framework'" in line


def test_settings_that_raise_are_one_line_naming_the_line(project, env, tmp_path):
    copy = broken_copy(project, tmp_path)
    settings = copy / "mysite" / "settings.py"
    lines = settings.read_text().splitlines()
    settings.write_text("\n".join([*lines, "raise RuntimeError('SECRET_KEY is not in the environment')"]) + "\n")
    line = one_line(cli(env, "run", "/shop/items/", "--project", str(copy)))
    assert line == (
        "error: settings mysite.settings failed to import: RuntimeError: SECRET_KEY is not in the environment "
        f"(at mysite/settings.py:{len(lines) + 1})"
    )


def test_a_urlconf_that_cannot_be_walked_is_one_line(project, env, tmp_path):
    copy = broken_copy(project, tmp_path)
    urls = copy / "shop" / "urls.py"
    urls.write_text(urls.read_text() + "urlpatterns.append(undefined_name)\n")
    line = one_line(cli(env, "list", "--project", str(copy)))
    assert line.startswith("error: the URLconf cannot be walked: NameError:") and "shop/urls.py:" in line


def test_no_manage_py_is_one_line(project, env, tmp_path):
    copy = broken_copy(project, tmp_path)
    (copy / "manage.py").unlink()
    assert "no manage.py in" in one_line(cli(env, "list", "--project", str(copy)))
    assert "does not exist" in one_line(cli(env, "list", "--project", str(tmp_path / "missing")))
    # With the settings named, no manage.py is needed.
    listed = cli(env, "list", "--project", str(copy), "--settings", "mysite.settings")
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize(
    "line",
    [
        'os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"',
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')",
    ],
)
def test_the_settings_module_is_read_from_manage_py_in_either_form(project, env, tmp_path, line):
    copy = broken_copy(project, tmp_path)
    manage = copy / "manage.py"
    text = manage.read_text()
    start = text.index("os.environ.setdefault(")
    end = text.index("\n", start)
    manage.write_text(text[:start] + line + text[end:])
    result = cli(env, "list", "--project", str(manage), "--json")  # the manage.py itself is accepted too
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["settings"] == "mysite.settings"


def test_a_manage_py_that_names_no_settings_is_one_line(project, env, tmp_path):
    copy = broken_copy(project, tmp_path)
    manage = copy / "manage.py"
    manage.write_text(
        manage.read_text().replace("'mysite.settings'", "SETTINGS").replace('"mysite.settings"', "SETTINGS")
    )
    line = one_line(cli(env, "list", "--project", str(copy)))
    assert line == f"error: {manage} does not name DJANGO_SETTINGS_MODULE: give it with --settings MODULE"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_db_copy_runs_against_a_copy_and_leaves_the_projects_file_alone(project, env, tmp_path):
    own = project / "db.sqlite3"
    before = digest(own), own.stat().st_mtime_ns
    doc, stderr = run_json(env, project, "/shop/items/", "-c", "2", "--db-copy")
    assert doc["statuses"] == {"200": 2}
    assert "a copy of the project's database" in stderr
    copies = list((Path(env["EXPLORER_DATA_DIR"]) / "project-db").glob("*/db.sqlite3"))
    assert len(copies) == 1 and str(copies[0]) in stderr
    assert (digest(own), own.stat().st_mtime_ns) == before


def test_unapplied_migrations_are_said_and_never_applied(env, tmp_path):
    fresh = make_project(tmp_path / "fresh", migrate=False)
    result = cli(env, "run", "/shop/page/", "--project", str(fresh), "-c", "1", "--json")
    assert "migrations are not applied to it and the lab does not migrate it" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["statuses"] == {"500": 1}  # no table: the project's own error, recorded
    assert doc["exceptions"] == {"OperationalError": 1}


def test_served_project_answers_only_loopback_hosts_same_site_and_token_writes(project, tmp_path):
    process = start_main(
        ["serve", "--project", str(project), "--port", "0", "--loop", "asyncio"], project_env(tmp_path)
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Serving the project mysite-project (mysite.settings) at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split("/ on ", 1)[0]
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
            assert client.get("/shop/item/3/").status_code == 200
            evil = client.get("/shop/item/3/", headers={"Host": "evil.example"})
            assert evil.status_code == 400 and "on 127.0.0.1 only" in evil.text
            cross = client.get("/shop/item/3/", headers={"Origin": "https://evil.example"})
            assert cross.status_code == 403
            write = client.post("/shop/item/3/")
            assert write.status_code == 403 and "X-Explorer-Token" in write.text
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
