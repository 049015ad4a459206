"""A project whose settings name PostgreSQL: a real server started for the test (initdb,
pg_ctl on 127.0.0.1), the project migrated by its own manage.py, then served by the lab.
Skipped, saying why, where PostgreSQL's programs are not installed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.engine.mainproc import ROOT

from .makeproject import make_project, project_env, run

DB_SETTINGS = """
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "{port}",
    }}
}}
"""


def _as_postgres(args: list[str]) -> list[str]:
    """Run as the postgres user when this is root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="module")
def postgres():
    for program in ("initdb", "pg_ctl", "psql"):
        if shutil.which(program) is None:
            pytest.skip(f"PostgreSQL's {program} is not installed here")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb cannot be run")
    # Not under pytest's tmp dirs: they are private to this user, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="explorer-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        _as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True
    )
    subprocess.run(
        _as_postgres(
            [
                "pg_ctl",
                "-D",
                str(data),
                "-l",
                str(base / "log"),
                "-w",
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", "create database shop"],
            check=True,
            capture_output=True,
        )
        yield port
    finally:
        subprocess.run(_as_postgres(["pg_ctl", "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def project(postgres, tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("pgproj") / "pgshop", migrate=False)
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + DB_SETTINGS.format(port=postgres))
    run(sys.executable, ["manage.py", "makemigrations", "shop", "-v0"], root)
    run(sys.executable, ["manage.py", "migrate", "-v0"], root)
    run(
        sys.executable,
        [
            "manage.py",
            "shell",
            "-c",
            "from shop.models import Item; [Item.objects.create(name=f'i{n}') for n in range(3)]",
        ],
        root,
    )
    return root


def cli(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def test_a_postgresql_project_is_served_against_its_own_database(project, tmp_path):
    env = project_env(tmp_path)
    result = cli(env, "run", "/shop/items/", "--project", str(project), "-c", "4", "--json")
    assert result.returncode == 0, result.stderr
    assert "database: postgresql 'shop', the project's own database" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["statuses"] == {"200": 4}
    assert doc["sql"]["queries_per_request"] == 2.0


def test_db_copy_is_refused_for_postgresql_with_one_line(project, tmp_path):
    result = cli(project_env(tmp_path), "run", "/shop/items/", "--project", str(project), "--db-copy")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --db-copy works for SQLite only; this project's database is django.db.backends.postgresql 'shop'"
    )
