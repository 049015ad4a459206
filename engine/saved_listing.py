"""What ``main.py list`` says of the person's own targets: the saved playground snippets and
the saved scenarios, each with the way ``run`` takes it.

A saved snippet runs by name (``run playground:NAME`` mounts it from its file first) or from
any file (``run --view FILE.py``); a saved scenario runs by its id or as ``run FILE.toml``.
Snippets are described from their syntax tree, so listing them runs none of their code.
"""

from __future__ import annotations

from typing import Any

from . import scenario_file, snippets
from .config import ConfigError

SNIPPETS_HEADING = "Saved snippets (run one by name: `run playground:NAME`; any file: `run --view FILE.py`)"
SCENARIOS_HEADING = "Saved scenarios (run one by name: `run NAME`; any file: `run FILE.toml`)"


def saved_snippets() -> list[dict[str, Any]]:
    """Each saved snippet: its target id, file, title, declared parameters, and a problem
    visible without running it (a syntax error), or None."""
    found = []
    for name in snippets.names():
        s = snippets.describe(name)
        found.append(
            {
                "id": s.target,
                "name": s.name,
                "file": str(s.path),
                "title": s.title,
                "params": list(s.params),
                "problem": s.problem,
                "run": f"run {s.target}",
            }
        )
    return found


def saved_scenarios() -> list[dict[str, Any]]:
    """Each saved scenario file: its id, file, title and streams' targets (a file that does not
    parse is listed with the one line that says why)."""
    found = []
    for name, path in scenario_file.saved_files().items():
        try:
            scenario = scenario_file.read_file(path)
            entry = {"title": scenario.title, "streams": [st.demo for st in scenario.streams], "problem": None}
        except ConfigError as exc:
            entry = {"title": "", "streams": [], "problem": str(exc)}
        found.append({"id": name, "file": str(path), **entry, "run": f"run {name}"})
    return found


def print_saved(snippet_list: list[dict[str, Any]], scenario_list: list[dict[str, Any]]) -> None:
    """The two sections of the text listing (each says "none" when empty, so the person learns
    that the lab keeps such things and where)."""
    print(f"\n{SNIPPETS_HEADING}")
    for s in snippet_list:
        what = f"(does not mount: {s['problem']})" if s["problem"] else s["title"]
        params = " ".join(s["params"])
        print(f"  {s['id']:28} {what}" + (f"  [{params}]" if params else "") + f"  {s['file']}")
    if not snippet_list:
        print(f"  none yet: the playground (View → Playground) keeps each mounted view in {snippets.snippets_dir()}")
    print(f"\n{SCENARIOS_HEADING}")
    for s in scenario_list:
        what = f"(cannot be read: {s['problem']})" if s["problem"] else s["title"]
        print(f"  {s['id']:28} {what}  {s['file']}")
    if not scenario_list:
        print(f"  none yet: File → Compose scenario… saves them in {scenario_file.scenarios_dir()}")
