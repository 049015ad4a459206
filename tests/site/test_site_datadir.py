"""The lab's own settings and data directory, through the door a user uses: real ``main.py``
processes, real environment variables, real broken files on disk.

An inherited DJANGO_SETTINGS_MODULE is ignored with one line; an unusable data dir is one
line naming it, exit 2; a corrupt or foreign database and a bad secret key are set aside
(never deleted) with one line, and fresh ones are made; several instances starting at once
on a fresh data dir seed the demo data once.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDED = {"demos_author": 200, "demos_book": 2000, "demos_review": 6000}


def lab(*args: str, data_dir: Path, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(data_dir, env),
        stdin=subprocess.DEVNULL,
    )


def _env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return {**env, "PYTHONPATH": str(ROOT), "EXPLORER_DATA_DIR": str(data_dir), **extra}


def counts(db_file: Path) -> dict[str, int]:
    with sqlite3.connect(db_file) as db:
        return {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in SEEDED}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def good_database(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a migrated and seeded lab database, made by the lab itself."""
    data_dir = tmp_path_factory.mktemp("good")
    assert lab("run", "hello", "-n", "1", data_dir=data_dir).returncode == 0
    with sqlite3.connect(data_dir / "explorer.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (data_dir / "explorer.sqlite3").read_bytes()


# --- the lab's own settings -------------------------------------------------------------


@pytest.mark.parametrize("command", [("list",), ("run", "hello", "-n", "3")])
def test_a_missing_inherited_settings_module_is_ignored_in_one_line(tmp_path: Path, command: tuple) -> None:
    result = lab(*command, data_dir=tmp_path / "data", DJANGO_SETTINGS_MODULE="no_such_project.settings")
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr) == (
        "ignoring DJANGO_SETTINGS_MODULE=no_such_project.settings: the lab serves its own site"
    )


def test_a_real_projects_settings_neither_serve_nor_get_migrated(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    project_db = project / "project.sqlite3"
    (project / "mysite_settings.py").write_text(
        "DEBUG = True\n"
        "ALLOWED_HOSTS = ['*']\n"
        "SECRET_KEY = 'the-projects-own-key'\n"
        "INSTALLED_APPS = ['embedded_site.demos']\n"
        "ROOT_URLCONF = 'embedded_site.urls'\n"
        f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {str(project_db)!r}}}}}\n"
    )
    pythonpath = f"{ROOT}{os.pathsep}{project}"
    for command in (("list",), ("run", "hello", "-n", "3", "--json")):
        result = lab(
            *command, data_dir=tmp_path / "data", DJANGO_SETTINGS_MODULE="mysite_settings", PYTHONPATH=pythonpath
        )
        assert result.returncode == 0, result.stderr
        assert one_line(result.stderr) == "ignoring DJANGO_SETTINGS_MODULE=mysite_settings: the lab serves its own site"
    assert not project_db.exists(), "the lab migrated into the project's database"
    assert counts(tmp_path / "data" / "explorer.sqlite3") == SEEDED


# --- an unusable data directory ---------------------------------------------------------


@pytest.mark.parametrize("command", [(), ("list",), ("run", "hello", "-n", "1"), ("serve", "--port", "0")], ids=str)
@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_an_unusable_data_dir_is_one_line_naming_it(tmp_path: Path, command: tuple, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data_dir = blocker / "data" if where == "under-a-file" else blocker
    result = lab(*command, data_dir=data_dir, timeout=60, QT_QPA_PLATFORM="offscreen")  # () is the window
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert line.startswith("error: cannot use the data directory ")
    assert str(data_dir) in line and "EXPLORER_DATA_DIR" in line
    assert blocker.read_text() == "not a directory"


# --- a database the lab cannot use ------------------------------------------------------


def _foreign_with_conflicting_author_table(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE demos_author (id INTEGER PRIMARY KEY, nickname TEXT)")
        db.execute("INSERT INTO demos_author (nickname) VALUES ('someone else''s row')")


def _foreign_with_none_of_ours(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices (total) VALUES (12.5)")


@pytest.mark.parametrize(
    "kind", ["random-bytes", "half-a-file", "foreign-demos_author", "foreign-app", "foreign-migrations", "a-directory"]
)
def test_an_unusable_database_is_kept_aside_and_rebuilt(tmp_path: Path, good_database: bytes, kind: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db_file = data_dir / "explorer.sqlite3"
    if kind == "random-bytes":
        db_file.write_bytes(os.urandom(64 * 1024))
    elif kind == "half-a-file":
        db_file.write_bytes(good_database[: len(good_database) // 2])
    elif kind == "foreign-demos_author":
        _foreign_with_conflicting_author_table(db_file)
    elif kind == "foreign-app":
        _foreign_with_none_of_ours(db_file)
    elif kind == "foreign-migrations":  # a table of Django's name, not of Django's making
        with sqlite3.connect(db_file) as db:
            db.execute("CREATE TABLE django_migrations (version TEXT)")
    else:
        db_file.mkdir()
        (db_file / "inside").write_bytes(b"kept")
    original = b"kept" if kind == "a-directory" else db_file.read_bytes()

    result = lab("run", "hello", "-n", "3", "--json", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    line = one_line(result.stderr)
    # The file itself, and the WAL files SQLite keeps beside it, if any, under the same name.
    (aside,) = (p for p in data_dir.glob("explorer.sqlite3.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
    assert line.startswith(f"note: the database {db_file} ") and aside.name in line
    kept = (aside / "inside") if kind == "a-directory" else aside
    assert kept.read_bytes() == original, "the unusable file was not kept as it was"
    assert counts(db_file) == SEEDED


def test_the_labs_own_database_is_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for attempt in range(2):
        result = lab("run", "hello", "-n", "1", data_dir=data_dir)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr
        if attempt == 0:  # a table a later migration of the demos app would add is the lab's too
            with sqlite3.connect(data_dir / "explorer.sqlite3") as db:
                db.execute("CREATE TABLE demos_later_model (id INTEGER PRIMARY KEY)")
    assert not list(data_dir.glob("*.corrupt-*"))


# --- a bad secret key -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["binary", "empty", "blank", "directory"])
def test_a_bad_secret_key_is_kept_aside_and_replaced(tmp_path: Path, kind: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key_file = data_dir / "secret_key"
    if kind == "directory":
        key_file.mkdir()
        (key_file / "inside").write_text("kept")
    else:
        key_file.write_bytes({"binary": b"\x00\xff\xfe\x80key", "empty": b"", "blank": b" \n\t\n"}[kind])

    result = lab("list", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    line = one_line(result.stderr)
    (aside,) = data_dir.glob("secret_key.bad-*")
    assert line.startswith(f"note: {key_file} ") and aside.name in line
    if kind == "directory":
        assert (aside / "inside").read_text() == "kept"
    key = key_file.read_text()
    assert len(key) >= 50 and key.isprintable() and key == key.strip()
    # The new key is the installation's key from now on: the next start says nothing.
    again = lab("list", data_dir=data_dir)
    assert again.returncode == 0 and not again.stderr.strip(), again.stderr
    assert key_file.read_text() == key


# --- several instances at once ----------------------------------------------------------


def test_three_instances_starting_at_once_seed_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    commands = [("run", "hello", "-n", "1"), ("run", "hello", "-n", "1"), ("list",), ("run", "hello", "-n", "1")]
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(data_dir, {}),
            stdin=subprocess.DEVNULL,
        )
        for command in commands
    ]
    results = [(p.communicate(timeout=180)[1], p.returncode) for p in procs]
    for err, code in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert counts(data_dir / "explorer.sqlite3") == SEEDED
    assert not list(data_dir.glob("*.bad-*")) and not list(data_dir.glob("*.corrupt-*"))
