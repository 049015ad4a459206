"""A virtual environment for a project's own requirements, built on the lab's.

The lab serves a project in its own process, so the project's dependencies must be
importable by the lab's interpreter.  ``--install`` makes an environment for them under
``<data dir>/envs/<hash>/`` (``EXPLORER_ENVS_DIR`` moves it): a venv of the same Python
whose ``lab.pth`` puts the lab's own packages after the environment's, then pip installs
the project's ``requirements*.txt`` (or ``pyproject.toml``'s dependencies) into it.  What
the project pins wins (a project on Django 5.2 gets 5.2 in its environment; pip never
touches the lab's packages, which are outside it), and everything else is the lab's.
The hash is of the requirements' text, the Python and the lab's own package folders (which
``lab.pth`` names: an environment built for a lab whose ``.venv`` was since moved or rebuilt
would import nothing of the lab's), so the environment is reused for as long as they stay
the same, and the lab re-executes itself in it whenever one exists.
"""

from __future__ import annotations

import hashlib
import os
import site
import subprocess
import sys
import tomllib
from pathlib import Path

from embedded_site.project import Project, ProjectError

READY = "explorer-env-ready"
ENV_MARK = "EXPLORER_PROJECT_ENV"  # set in the re-executed lab: it runs in that environment


def requirement_files(project: Project) -> list[Path]:
    return sorted(p for p in project.root.glob("requirements*.txt") if p.is_file())


def pyproject_dependencies(project: Project) -> list[str]:
    path = project.root / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectError(f"{path} cannot be read: {exc}") from None
    deps = data.get("project", {}).get("dependencies", [])
    return [d for d in deps if isinstance(d, str)]


def envs_dir() -> Path:
    given = os.environ.get("EXPLORER_ENVS_DIR")
    if given:
        return Path(given)
    from embedded_site.datadir import data_dir

    return data_dir() / "envs"


def environment_for(project: Project) -> Path:
    """Where the project's environment lives: named by what it installs and the Python."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update("\0".join(site.getsitepackages()).encode() + b"\0")  # what its lab.pth will name
    for path in requirement_files(project):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for dep in pyproject_dependencies(project):
        digest.update(dep.encode() + b"\0")
    return envs_dir() / digest.hexdigest()[:16]


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def use_environment(project: Project, *, install: bool, argv: list[str] | None) -> str | None:
    """Re-execute the lab in the project's environment if it has one (building it first
    with ``install``); return when this process is the one to serve the project, with a
    note to show once it loads when its requirements have no environment yet."""
    if os.environ.get(ENV_MARK):
        return None  # already re-executed in it
    if not requirement_files(project) and not pyproject_dependencies(project):
        if install:
            return f"note: {project.root} names no requirements (requirements*.txt, pyproject.toml): nothing to install"
        return None
    env = environment_for(project)
    if not (env / READY).is_file():
        if not install:
            return (
                f"note: {project.name}'s requirements have no environment of their own yet, so the lab's "
                f"packages serve it (./explorer --project {project.root} --install makes one)"
            )
        build(project, env)
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--install"]
    main = Path(__file__).resolve().parent.parent / "main.py"
    os.environ[ENV_MARK] = str(env)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(env_python(env), [str(env_python(env)), str(main), *args])
    return None  # not reached: execv replaces the process


def build(project: Project, env: Path) -> None:
    """Make the environment: a venv, the lab's packages behind it, the project's on top."""
    print(f"installing the project's requirements into {env} (once; reused next time)", file=sys.stderr, flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    try:
        _quiet([base, "-m", "venv", "--without-pip", str(env)], "creating the environment")
        purelib = subprocess.run(
            [str(env_python(env)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(purelib, "lab.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()), encoding="utf-8")
        pip = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env_python(env)),
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        for path in requirement_files(project):
            _quiet([*pip, "-r", str(path)], f"pip install -r {path.name}", cwd=project.root)
        deps = pyproject_dependencies(project)
        if deps:
            _quiet([*pip, *deps], "pip install of pyproject.toml's dependencies", cwd=project.root)
    except OSError as exc:
        raise ProjectError(f"cannot build the environment {env}: {exc}") from None
    (env / READY).write_text(str(project.root) + "\n", encoding="utf-8")


def _quiet(command: list[str], what: str, cwd: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise ProjectError(f"{what} failed: {last[0][:300]}")
