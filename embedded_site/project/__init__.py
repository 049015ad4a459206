"""A person's own Django project, served and traced by the lab instead of the demo site.

Django can be set up once per process, so a process serves either the demo site or one
project: ``activate(locate(path, settings))`` before ``bootstrap.setup_django`` makes the
rest of the lab (server, tracing, driver) serve the project.  Every way a project can fail
to load is a ``ProjectError`` whose message is one line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Project", "ProjectError", "activate", "active", "locate"]

# The oldest Django a project may run on: the lab's tracing is checked on 5.2 LTS and 6.x.
MIN_DJANGO = (5, 2)


class ProjectError(Exception):
    """The project cannot be served; the message says why in one line."""


@dataclass(frozen=True)
class Project:
    root: Path  # the directory holding manage.py: it goes first on sys.path
    settings_module: str
    db_copy: bool = False  # serve a copy of its SQLite database, kept in the lab's data dir

    @property
    def name(self) -> str:
        return self.root.name


_active: Project | None = None


def active() -> Project | None:
    """The project this process serves, or None for the demo site."""
    return _active


def activate(project: Project | None) -> None:
    global _active
    _active = project


def settings_from_manage_py(manage: Path) -> str | None:
    """The module named by ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "...")`` in
    manage.py, read from its syntax tree (the file is not run)."""
    try:
        tree = ast.parse(manage.read_text(encoding="utf-8"), str(manage))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            # os.environ["DJANGO_SETTINGS_MODULE"] = "..."
            for target in node.targets:
                key = target.slice if isinstance(target, ast.Subscript) else None
                if isinstance(key, ast.Constant) and key.value == "DJANGO_SETTINGS_MODULE":
                    if isinstance(node.value.value, str):
                        return node.value.value
            continue
        if not (isinstance(node, ast.Call) and len(node.args) == 2):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        first, second = node.args
        if (
            called in ("setdefault", "putenv", "__setitem__")
            and isinstance(first, ast.Constant)
            and first.value == "DJANGO_SETTINGS_MODULE"
            and isinstance(second, ast.Constant)
            and isinstance(second.value, str)
        ):
            return second.value
    return None


def locate(path: str | Path, settings: str | None = None, *, db_copy: bool = False) -> Project:
    """The project at ``path`` (its directory or its manage.py), with its settings module:
    ``settings`` if given, else the one its manage.py names."""
    given = Path(path).expanduser()
    if given.name == "manage.py" and given.is_file():
        given = given.parent
    if not given.exists():
        raise ProjectError(f"no project at {str(given)!r}: that path does not exist")
    if not given.is_dir():
        raise ProjectError(f"{str(given)!r} is not a directory: give the folder that holds the project's manage.py")
    root = given.resolve()
    manage = root / "manage.py"
    if settings is None:
        if not manage.is_file():
            raise ProjectError(
                f"no manage.py in {str(root)!r}: give the project's folder, or its settings with --settings"
            )
        settings = settings_from_manage_py(manage)
        if settings is None:
            raise ProjectError(f"{manage} does not name DJANGO_SETTINGS_MODULE: give it with --settings MODULE")
    if not all(part.isidentifier() for part in settings.split(".")):
        raise ProjectError(f"{settings!r} is not a Python module name (like mysite.settings)")
    return Project(root, settings, db_copy)
