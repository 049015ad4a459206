"""Scenarios the person composes: a small TOML file each, read with tomllib, written by hand.

The format (one table per stream; every key but ``target`` optional)::

    title = "Fifty sleepers and one blocker"
    lesson = "What I expect to see"

    [[stream]]
    target = "async-sleep"        # a demo id, playground:<name>, or any target id a run accepts
    params = { delay = 0.5 }
    concurrency = 50
    requests = 50                 # or: duration = 5.0 (seconds)
    rate = 100.0                  # open loop: requests per second
    start = 0.2                   # seconds after the run starts

Saved scenarios live in ``<data dir>/scenarios/<name>.toml`` and are listed beside the
built-in ones; ``main.py run FILE.toml`` runs any such file.  Every problem in a file (its
syntax, an unknown key, a number of the wrong kind) is one line naming the file.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from embedded_site.datadir import data_dir

from .config import ConfigError, Stream
from .scenarios import SCENARIOS, Scenario

SUFFIX = ".toml"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_TOP_KEYS = {"title", "lesson", "stream"}
_STREAM_KEYS = {"target", "params", "concurrency", "requests", "duration", "rate", "start"}

# Scenarios read from files or composed in the window, by id, beside the built-in SCENARIOS.
_composed: dict[str, Scenario] = {}
_loaded_saved = False


def scenarios_dir() -> Path:
    directory = data_dir() / "scenarios"
    directory.mkdir(exist_ok=True)
    return directory


def parse(text: str, scenario_id: str, where: str) -> Scenario:
    """The scenario a TOML text describes; ConfigError (one line starting with ``where``) otherwise."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (a scenario has title, lesson and [[stream]] tables)")
    title, lesson = doc.get("title", scenario_id), doc.get("lesson", "")
    if not isinstance(title, str) or not isinstance(lesson, str):
        raise ConfigError(f"{where}: title and lesson must be strings")
    tables = doc.get("stream")
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{where}: a scenario needs at least one [[stream]] table")
    streams = tuple(_stream(table, f"{where}: stream {n}") for n, table in enumerate(tables, 1))
    return Scenario(scenario_id, title, lesson, streams)


def _number(table: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ConfigError(f"{where}: {key} must be {'a whole number' if kind is int else 'a number'}, got {value!r}")
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return kind(value)


def _stream(table: Any, where: str) -> Stream:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(table) - _STREAM_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_STREAM_KEYS))})")
    target = table.get("target")
    if not isinstance(target, str) or not target:
        raise ConfigError(f'{where}: needs target = "<demo id>"')
    params = table.get("params", {})
    if not isinstance(params, dict) or any(isinstance(v, (dict, list)) for v in params.values()):
        raise ConfigError(f"{where}: params must be a table of name = value")
    concurrency = _number(table, "concurrency", where, int)
    requests = _number(table, "requests", where, int)
    duration = _number(table, "duration", where, float)
    rate = _number(table, "rate", where, float)
    if requests is None and duration is None:
        requests = concurrency or 1
    return Stream(
        target,
        dict(params),
        concurrency=concurrency if concurrency is not None else 1,
        requests=requests,
        duration_s=duration,
        rate=rate,
        start_s=_number(table, "start", where, float) or 0.0,
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def dumps(scenario: Scenario) -> str:
    """The scenario as TOML that ``parse`` reads back to the same scenario."""
    lines = [f"title = {_value(scenario.title)}"]
    if scenario.lesson:
        lines.append(f"lesson = {_value(scenario.lesson)}")
    for s in scenario.streams:
        lines += ["", "[[stream]]", f"target = {_value(s.demo)}"]
        if s.params:
            lines.append("params = { " + ", ".join(f"{k} = {_value(v)}" for k, v in s.params.items()) + " }")
        lines.append(f"concurrency = {s.concurrency}")
        if s.requests is not None:
            lines.append(f"requests = {s.requests}")
        if s.duration_s is not None:
            lines.append(f"duration = {float(s.duration_s)!r}")
        if s.rate is not None:
            lines.append(f"rate = {float(s.rate)!r}")
        if s.start_s:
            lines.append(f"start = {float(s.start_s)!r}")
    return "\n".join(lines) + "\n"


def read_file(path: str | Path) -> Scenario:
    """A scenario file, named by its stem (or by its file name when the stem is a built-in's id)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{path}: the scenario file {'is a directory' if path.is_dir() else 'does not exist'}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    scenario_id = path.stem if path.stem not in SCENARIOS else path.name
    return parse(text, scenario_id, str(path))


def register(scenario: Scenario) -> Scenario:
    """Make the scenario runnable by its id (``plan.make_config``) in this process."""
    _composed[scenario.id] = scenario
    return scenario


def composed() -> dict[str, Scenario]:
    """Scenarios registered in this process plus those saved in the data directory, by id."""
    global _loaded_saved
    if not _loaded_saved:
        _loaded_saved = True
        for path in sorted(scenarios_dir().glob(f"*{SUFFIX}")):
            if NAME.match(path.stem) and path.stem not in SCENARIOS:
                try:
                    _composed.setdefault(path.stem, parse(path.read_text(encoding="utf-8"), path.stem, str(path)))
                except (ConfigError, OSError, UnicodeDecodeError):
                    continue  # a broken file stays on disk; it is reported when run by its path
    return dict(_composed)


def saved_files() -> dict[str, Path]:
    """The scenario files kept in the data directory, by id (what ``list`` shows and Delete removes)."""
    return {
        path.stem: path
        for path in sorted(scenarios_dir().glob(f"*{SUFFIX}"))
        if NAME.match(path.stem) and path.stem not in SCENARIOS and path.is_file()
    }


def delete(name: str) -> bool:
    """Remove the saved scenario ``name``: its file and its entry in this process.  False if
    no such scenario was saved (a built-in one is never removed)."""
    path = saved_files().get(name)
    if path is None:
        return False
    path.unlink(missing_ok=True)
    _composed.pop(name, None)
    return True


def check_name(name: str, taken: Mapping[str, Any] | None = None) -> str:
    if not NAME.match(name):
        raise ConfigError(f"a scenario name is 1–40 lower-case letters, digits and dashes, got {name!r}")
    if name in SCENARIOS or (taken is not None and name in taken):
        raise ConfigError(f"{name!r} is already the id of a built-in demo or scenario; pick another name")
    return name


def save(scenario: Scenario) -> Path:
    """Keep the scenario as ``<data dir>/scenarios/<id>.toml`` (whole or not at all) and register it."""
    target = scenarios_dir() / f"{scenario.id}{SUFFIX}"
    write(scenario, target)
    register(scenario)
    return target


def write(scenario: Scenario, target: Path) -> None:
    """Write the scenario's TOML to ``target`` through a temporary file renamed into place."""
    fd, temporary = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dumps(scenario))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
