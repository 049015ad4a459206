"""The playground's snippets kept between sessions, and views mounted from a file (``run --view``).

Each snippet is a plain ``<name>.py`` in ``<data dir>/playground/``: the person can open it
in an editor, and ``main.py run --view`` runs it.  Writing goes through a temporary file
renamed into place, so a snippet is whole or absent.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from embedded_site import playground
from embedded_site.datadir import data_dir
from embedded_site.playground import MountError, PlaygroundDemo
from embedded_site.tracing import watchdog

from .config import ConfigError

SUFFIX = ".py"


def snippets_dir() -> Path:
    directory = data_dir() / "playground"
    directory.mkdir(exist_ok=True)
    return directory


def names() -> list[str]:
    """The saved snippets' names, sorted (files whose name is not a valid slug are left alone)."""
    return sorted(p.stem for p in snippets_dir().glob(f"*{SUFFIX}") if playground.SLUG.match(p.stem) and p.is_file())


def path_of(name: str) -> Path:
    return snippets_dir() / f"{playground.check_slug(name)}{SUFFIX}"


def load(name: str) -> str:
    return path_of(name).read_text(encoding="utf-8")


def save(name: str, source: str) -> Path:
    """Keep the snippet as ``<name>.py``, replacing an earlier one whole."""
    target = path_of(name)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(source)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def delete(name: str) -> None:
    """Remove the saved snippet's file and take its view off the site (it is no longer listed
    anywhere, so a view that stayed mounted would be one nobody can see)."""
    path_of(name).unlink(missing_ok=True)
    playground.unmount(name)


@dataclass(frozen=True)
class SavedSnippet:
    """What ``list`` says of a saved snippet, read from its file without running it."""

    name: str
    path: Path
    title: str
    params: tuple[str, ...]
    problem: str | None  # why it would not mount, when that shows without running it (a syntax error)

    @property
    def target(self) -> str:
        return playground.target_id(self.name)


def describe(name: str) -> SavedSnippet:
    """The saved snippet's title and declared parameters, from its syntax tree: listing the
    snippets must not run their code (a run mounts one, and then runs it)."""
    path = path_of(name)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return SavedSnippet(name, path, "", (), f"syntax error, line {exc.lineno}: {exc.msg}")
    except (OSError, UnicodeDecodeError) as exc:
        return SavedSnippet(name, path, "", (), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
    title, params = "", ()
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "TITLE" and isinstance(node.value, ast.Constant):
                title = str(node.value.value)
            elif node.targets[0].id == "PARAMS" and isinstance(node.value, ast.Dict):
                params = tuple(k.value for k in node.value.keys if isinstance(k, ast.Constant))
    if not title:
        view = next((f for f in functions if f.name == "view"), functions[0] if len(functions) == 1 else None)
        doc = ast.get_docstring(view) if view is not None else None
        title = doc.strip().splitlines()[0] if doc and doc.strip() else ""
    return SavedSnippet(name, path, title, tuple(str(p) for p in params), None)


def mount_saved(name: str) -> PlaygroundDemo:
    """Mount the saved snippet ``name`` (a scenario file may name one); ConfigError if it cannot be."""
    try:
        source = load(name)
    except MountError as exc:
        raise ConfigError(str(exc)) from None
    except FileNotFoundError:
        raise ConfigError(
            f"no playground snippet named {name!r} is saved (saved: {', '.join(names()) or 'none'})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"playground snippet {name!r} cannot be read: {exc}") from None
    try:
        return playground.mount(name, source)
    except MountError as exc:
        raise ConfigError(str(exc)) from None


def slug_for_file(path: Path) -> str:
    """A playground name for a file: its stem, lower-cased, anything else than letters and digits a dash."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40].strip("-")
    return slug or "view"


def mount_file(spec: str) -> PlaygroundDemo:
    """Mount ``FILE.py[:NAME]`` exactly as the playground mounts its pane; ConfigError (one line,
    ``file:line`` for an error in the code) for a bad path or a snippet that does not mount."""
    file_part, name = spec, None
    head, sep, tail = spec.rpartition(":")
    if sep and head and tail.isidentifier():
        file_part, name = head, tail
    path = Path(file_part).expanduser()
    if path.suffix != SUFFIX:
        raise ConfigError(f"--view takes a Python file, FILE.py[:NAME], got {spec!r}")
    if not path.is_file():
        why = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"--view {file_part}: the file {why}")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--view {file_part}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    filename = str(path.resolve())
    watchdog.USER_CODE_FILES.add(filename)  # a culprit in it names the file and line
    try:
        return playground.mount(slug_for_file(path), source, name, filename=filename)
    except MountError as exc:
        raise ConfigError(str(exc).replace(filename, file_part, 1)) from None
