"""A project that pins its own Django gets it in an environment of its own (``--install``):
Django 5.2 LTS is served and traced like 6.x, and an older Django is refused.

The environments are built from the package registry once and kept in a cache directory
(``EXPLORER_TEST_ENVS``, default ``~/.cache/django-async-explorer/test-envs``), so later
runs reuse them; a test is skipped, saying why, only when the environment cannot be built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.mainproc import ROOT

from .makeproject import BLOCKING_LINE, make_project, project_env

DJANGO_52 = "Django==5.2.8"


def _on_this_lab(env: Path) -> bool:
    """Whether the cached environment's lab.pth names this lab's packages (one built for another
    checkout of the lab, since removed, is kept in the cache but imports none of them)."""
    import site

    return any(
        pth.read_text(encoding="utf-8").splitlines() == site.getsitepackages()
        for pth in (env / "lib").glob("python*/site-packages/lab.pth")
    )


DJANGO_42 = "Django>=4.2,<4.3"


@pytest.fixture(scope="module")
def envs_dir() -> Path:
    default = Path.home() / ".cache" / "django-async-explorer" / "test-envs"
    path = Path(os.environ.get("EXPLORER_TEST_ENVS", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cli(env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def installed(env, root: Path, pin: str) -> Path:
    """``--install`` the project's requirements (once per cache); skip if pip cannot."""
    (root / "requirements.txt").write_text(pin + "\n")
    result = cli(env, "list", "--project", str(root), "--install")
    if "failed" in result.stderr and "pip install" in result.stderr:
        pytest.skip(f"the {pin} environment cannot be built here: {result.stderr.strip()}")
    return root


def test_a_project_on_django_52_runs_in_its_own_environment(tmp_path, envs_dir):
    env = project_env(tmp_path, EXPLORER_ENVS_DIR=str(envs_dir))
    seed = make_project(tmp_path / "seed", migrate=False)
    installed(env, seed, DJANGO_52)
    built = [p for p in envs_dir.iterdir() if (p / "explorer-env-ready").is_file() and _on_this_lab(p)]
    python = next(
        p / "bin" / "python" for p in built if list((p / "lib").glob("python*/site-packages/django-5.2.8.dist-info"))
    )
    # The project itself is made by Django 5.2's own startproject, as its author made it.
    project = make_project(tmp_path / "on52", python=str(python))
    (project / "requirements.txt").write_text(DJANGO_52 + "\n")
    version = subprocess.run([str(python), "-m", "django", "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == "5.2.8"
    # No --install: the environment made for the same requirements is reused.
    result = cli(env, "run", "/shop/blocking/", "--project", str(project), "-c", "3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["django"] == "5.2.8"
    blocked = next(f for f in doc["findings"] if f["id"] == "loop-blocked")
    assert blocked["evidence"]["culprit"] == f"time.sleep, shop/views.py:{BLOCKING_LINE} in blocking"
    result = cli(env, "run", "/shop/items/", "--project", str(project), "-c", "3", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["statuses"] == {"200": 3} and doc["sql"]["queries_per_request"] == 2.0
    # The lab's own environment still has its own Django.
    import django

    assert django.VERSION[:2] >= (6, 0)


def test_a_django_older_than_52_is_refused_with_one_line(tmp_path, envs_dir):
    env = project_env(tmp_path, EXPLORER_ENVS_DIR=str(envs_dir))
    project = make_project(tmp_path / "old", migrate=False)
    installed(env, project, DJANGO_42)
    result = cli(env, "list", "--project", str(project))
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("error: the project would run on Django 4.2.")
    assert line.endswith("the lab serves projects on Django 5.2 LTS or newer")


def test_pyproject_dependencies_are_installed_and_the_environment_reused(tmp_path, envs_dir):
    env = project_env(tmp_path, EXPLORER_ENVS_DIR=str(envs_dir))
    project = make_project(tmp_path / "pyproj")
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "pyproj"\nversion = "0"\ndependencies = ["{DJANGO_52}"]\n'
    )
    first = cli(env, "list", "--project", str(project), "--install", "--json")
    if first.returncode != 0 and "pip install" in first.stderr:
        pytest.skip(f"the {DJANGO_52} environment cannot be built here: {first.stderr.strip()}")
    assert first.returncode == 0, first.stderr
    again = cli(env, "run", "/shop/items/", "--project", str(project), "-c", "2", "--json")
    assert again.returncode == 0, again.stderr
    assert "installing" not in again.stderr  # reused, not built again
    assert json.loads(again.stdout)["django"] == "5.2.8"
