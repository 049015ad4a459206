"""Turn what a user asked for (a demo or scenario id, knobs, parameters) into a checked RunConfig.

Everything is checked here, before a run starts: the CLI and the window both refuse a bad
setting with the same sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from embedded_site import playground
from embedded_site.demos.catalogue import Demo, ParamError, all_demos

from .config import MAX_DURATION_S, ConfigError, RunConfig, Stream, check_run, check_stream
from .scenarios import SCENARIOS, Scenario


def catalogue() -> dict[str, Demo]:
    """Every demo, then every view mounted in the playground (``playground:<name>``); none
    while the lab serves a person's own project instead."""
    from embedded_site.project import active

    if active() is not None:
        return {}
    return {**{d.id: d for d in all_demos()}, **playground.mounted()}


def scenarios() -> dict[str, Scenario]:
    """The built-in scenarios, then those composed by the person (saved, or read from a file)."""
    from .scenario_file import composed

    return {**SCENARIOS, **composed()}


def _ensure_mounted(demos: dict[str, Demo], target: str) -> None:
    """A ``playground:<name>`` target that is not mounted yet is mounted from its saved snippet."""
    slug = playground.slug_of(target)
    if slug is not None and target not in demos:
        from .snippets import mount_saved

        demos[target] = mount_saved(slug)


def make_config(
    target: str,
    *,
    concurrency: int | None = None,
    requests: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> RunConfig:
    """A checked run of ``target``; ``None`` for a knob means its default (10 users, as
    many requests as users).  A scenario sets every knob itself and refuses any given."""
    from .project_targets import is_url_target, make_url_config

    if is_url_target(target):
        return make_url_config(
            target, concurrency=concurrency, requests=requests, duration_s=duration_s, rate=rate, params=params
        )
    demos = catalogue()
    known_scenarios = scenarios()
    if target in known_scenarios:
        if params:
            raise ConfigError(f"scenario {target!r} sets its own parameters; --param is for single demos")
        given = [
            flag
            for flag, value in (
                ("--concurrency", concurrency),
                ("--requests", requests),
                ("--duration", duration_s),
                ("--rate", rate),
            )
            if value is not None
        ]
        if given:
            raise ConfigError(
                f"scenario {target!r} sets its own concurrency, counts and rates; "
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for single demos"
            )
        return scenario_config(known_scenarios[target], demos)
    _ensure_mounted(demos, target)
    if target not in demos:
        known = ", ".join(sorted(demos)) + "; scenarios: " + ", ".join(known_scenarios)
        raise ConfigError(f"unknown demo or scenario {target!r} (demos: {known})")
    demo = demos[target]
    if concurrency is None:
        concurrency = 10
    if requests is None and duration_s is None:
        requests = concurrency
    stream = Stream(
        target,
        dict(params or {}),
        concurrency=concurrency,
        requests=requests,
        duration_s=duration_s,
        rate=rate,
        client_timeout_s=demo.extra.get("client_timeout_s"),
    )
    config = RunConfig(target, (_checked(demos, stream),), demo.title)
    check_run(config)
    _check_loop_block(config)
    return config


def scenario_config(scenario: Scenario, demos: dict[str, Demo] | None = None) -> RunConfig:
    """A checked run of the scenario's streams as it declares them; an unknown target in a
    stream is refused with its number."""
    demos = catalogue() if demos is None else demos
    for n, stream in enumerate(scenario.streams, 1):
        _ensure_mounted(demos, stream.demo)
        if stream.demo not in demos:
            raise ConfigError(
                f"scenario {scenario.id!r}, stream {n}: unknown demo {stream.demo!r} (see `python main.py list`)"
            )
    checked = []
    for n, stream in enumerate(scenario.streams, 1):
        try:
            checked.append(_checked(demos, stream))
        except ConfigError as exc:
            raise ConfigError(f"scenario {scenario.id!r}, stream {n} ({stream.demo}): {exc}") from None
    config = RunConfig(scenario.id, tuple(checked), scenario.title)
    check_run(config)
    _check_loop_block(config)
    return config


def _check_loop_block(config: RunConfig) -> None:
    """A run whose demos would hold the event loop longer than a run may last cannot keep its
    schedule at all (``blocking-sleep --rate 10 -d 60 -p delay=1`` is ten minutes of stall)."""
    blocked = predicted_loop_block_s(config)
    if blocked > MAX_DURATION_S:
        raise ConfigError(
            f"a run may last at most {MAX_DURATION_S:g} s, and this one would block the event loop "
            f"for {blocked:,.0f} s (the demo's declared stall times the requests)"
        )


def _checked(demos: Mapping[str, Demo], stream: Stream) -> Stream:
    check_stream(stream)
    demo = demos[stream.demo]
    try:
        parsed = demo.parse_params(stream.params)
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    given = {k: parsed[k] for k in stream.params}
    return replace(stream, params=given)


def url_for(demos: Mapping[str, Demo], base_url: str, stream: Stream) -> str:
    from urllib.parse import urlencode

    demo = demos[stream.demo]
    query = urlencode(stream.params)
    return f"{base_url}{demo.path}" + (f"?{query}" if query else "")


def predicted_loop_block_s(config: RunConfig) -> float:
    """How long this run will block the event loop (and so a window that shares it), as far
    as the demos' own declarations tell; 0 when none of them blocks it."""
    demos = catalogue()
    total = 0.0
    for stream in config.streams:
        demo = demos.get(stream.demo)
        per = demo.loop_block_s(stream.params) if demo is not None else 0.0
        if not per:
            continue
        count = stream.requests
        if count is None and stream.rate is not None and stream.duration_s is not None:
            count = max(1, round(stream.rate * stream.duration_s))
        elif count is None and stream.duration_s is not None:
            # A timed closed loop: the blocked loop lets one request through at a time.
            count = max(1, round(stream.duration_s / per))
        total += per * (count or 0)
    return total
