"""The playground's snippets kept between sessions, and views mounted from a file (``run --view``).

Each snippet is a plain ``<name>.py`` in ``<data dir>/playground/``: the person can open it
in an editor, and ``main.py run --view`` runs it.  Writing goes through a temporary file
renamed into place, so a snippet is whole or absent.
"""

from __future__ import annotations

import os
import re
import tempfile
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
    path_of(name).unlink(missing_ok=True)


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
