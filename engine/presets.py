"""The classic comparisons, each one click: which demos (or loops) to run, at one load.

A preset runs its targets one after another with the same settings, so the only thing that
differs between the runs is what is being compared. ``same_load`` carries a run's settings
over to another demo (its parameters too, where the other demo has one of the same name).
A run on another loop than the window's (plain ``asyncio``, stock ``qasync``) happens in a
child ``main.py run … --record FILE`` process whose run file is loaded: one process has one
loop, and the window's is Qt's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .config import RunConfig
from .plan import catalogue, make_config

ROOT = Path(__file__).resolve().parents[1]
LOOP_LOAD = {"concurrency": 50, "requests": 1000}  # hello "at full load": 50 users, 1,000 requests


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    targets: tuple[str, ...]
    loops: tuple[str, ...] = ()  # one loop per target ("" or the window's: in the window)
    fixed_load: bool = False  # the preset sets its own load (LOOP_LOAD), not the toolbar's


def presets() -> list[Preset]:
    """Every preset, in the Compare menu's order: the sleeps, fan-out, N+1, each article
    snippet against its fix (read from the catalogue's twins), and the loops."""
    found = [
        Preset(
            "sleeps", "sync-sleep vs async-sleep vs blocking-sleep", ("sync-sleep", "async-sleep", "blocking-sleep")
        ),
        Preset("fanout", "fanout-sequential vs fanout-gather", ("fanout-sequential", "fanout-gather")),
        Preset("orm", "orm-n-plus-one vs orm-select-related", ("orm-n-plus-one", "orm-select-related")),
    ]
    demos = catalogue()
    for demo in demos.values():
        if demo.id.startswith("article-") and demo.twin and demo.twin == f"{demo.id}-fixed" and demo.twin in demos:
            found.append(Preset(demo.id, f"{demo.id} vs its fix", (demo.id, demo.twin)))
    found.append(
        Preset(
            "loops",
            "hello at full load: qt loop vs plain asyncio vs stock qasync",
            ("hello", "hello", "hello"),
            ("qt", "asyncio", "qasync"),
            fixed_load=True,
        )
    )
    return found


def twin_of(target: str) -> str | None:
    """The demo's twin in the catalogue (a scenario has none)."""
    demo = catalogue().get(target)
    return demo.twin if demo is not None else None


def same_load(config: RunConfig, target: str) -> RunConfig:
    """``config``'s load (users, count or duration, rate) for another target (a demo, a
    playground snippet, saved or mounted, or a URL of the served project), with the parameters
    the other shares by name; its own defaults for the rest. Raises ConfigError."""
    from .project_targets import is_url_target

    stream = config.streams[0]
    demo = catalogue().get(target)
    if demo is None and not is_url_target(target):
        make_config(target)  # mounts a saved snippet, or refuses an unknown target in one line
        demo = catalogue().get(target)
    names = {p.name for p in demo.params} if demo is not None else set()
    return make_config(
        target,
        concurrency=stream.concurrency,
        requests=stream.requests,
        duration_s=stream.duration_s,
        rate=stream.rate,
        params={k: v for k, v in stream.params.items() if k in names},
    )


def preset_configs(preset: Preset, config: RunConfig | None) -> list[RunConfig]:
    """The runs of ``preset`` at ``config``'s load: the toolbar's, the preset's own for the
    loops, or each demo's defaults when the toolbar holds a scenario (several loads)."""
    if preset.fixed_load:
        return [make_config(t, **LOOP_LOAD) for t in preset.targets]
    if config is None or len(config.streams) != 1:
        return [make_config(t) for t in preset.targets]
    return [same_load(config, t) for t in preset.targets]


def child_run_args(config: RunConfig, loop: str, record_path: Path) -> list[str]:
    """The command line of a child ``main.py run`` doing ``config`` on ``loop``, recording to a file."""
    stream = config.streams[0]
    args = [sys.executable, str(ROOT / "main.py"), "run", config.target, "--loop", loop]
    args += ["--concurrency", str(stream.concurrency)]
    if stream.requests is not None:
        args += ["--requests", str(stream.requests)]
    if stream.duration_s is not None:
        args += ["--duration", f"{stream.duration_s:g}"]
    if stream.rate is not None:
        args += ["--rate", f"{stream.rate:g}"]
    for name, value in stream.params.items():
        args += ["--param", f"{name}={value}"]
    return [*args, "--record", str(record_path)]
