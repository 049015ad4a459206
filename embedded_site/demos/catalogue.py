"""The demo catalogue: every demo is one view plus one entry registered beside it.

A view module declares its demos with ``@demo(...)``; the entry carries what the
explorer shows (title, lesson, the view's real source) and what it needs to run the demo
(URL path, parameters with bounds).  Views receive their parameters already parsed and
checked, as keyword arguments.
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

VIEWS = "Views"
ORM = "ORM"
TEMPLATES = "Templates"
OUTBOUND = "Outbound"
STREAMING = "Streaming"
MIDDLEWARE = "Middleware & auth"
SIGNALS = "Signals"
SHORTCUTS = "Shortcuts & prefetch"
TRANSACTIONS = "Transactions"
CACHE = "Cache"
CLASS_VIEWS = "Class-based views"
ARTICLE = "The article's code"
POSTGRES = "PostgreSQL"
GROUPS = (
    VIEWS,
    MIDDLEWARE,
    ORM,
    SHORTCUTS,
    TRANSACTIONS,
    TEMPLATES,
    CACHE,
    SIGNALS,
    CLASS_VIEWS,
    OUTBOUND,
    STREAMING,
    ARTICLE,
    POSTGRES,
)
# GET for a demo that only reads or waits; POST for one that writes.
METHODS = ("GET", "POST")

# The modules whose ``@demo`` entries make up the catalogue, in display order.
VIEW_MODULES = (
    "embedded_site.demos.views.basics",
    "embedded_site.demos.views.middleware",
    "embedded_site.demos.views.auth",
    "embedded_site.demos.views.orm",
    "embedded_site.demos.views.shortcuts",
    "embedded_site.demos.views.transactions",
    "embedded_site.demos.views.templates",
    "embedded_site.demos.views.cache",
    "embedded_site.demos.views.signals",
    "embedded_site.demos.views.class_based",
    "embedded_site.demos.views.outbound",
    "embedded_site.demos.views.streaming",
    "embedded_site.demos.views.article",
    "embedded_site.demos.views.postgres",
    "embedded_site.demos.views.deploy",
)


@dataclass(frozen=True)
class Check:
    """A claim the demo's lesson makes, as what its default run must measure.

    Declarative, so the window can show it with the number it was checked against:
    ``finding`` names a finding id (``engine.findings``) and ``key`` one of its evidence
    numbers; with no ``finding``, ``key`` is a ``RunStats`` field (dotted for a dict entry,
    ``loop_lag_ms.p99``).  ``op`` is one of ``present``, ``absent`` (the finding), ``<``,
    ``<=``, ``>``, ``>=``, ``==`` (with ``bound``, or with ``other``: the key of another
    number of the same finding), or ``contains`` / ``lacks`` (a text; ``lacks`` also holds
    when the finding is absent).

    A claim should hold on a loaded machine too: "the loop was never held in this view's
    code" (a culprit that ``lacks`` the view) rather than "lag below N ms", which a busy
    machine breaks on its own.
    """

    text: str
    finding: str | None = None
    key: str | None = None
    op: str = "present"
    bound: float | int | str | None = None
    other: str | None = None


def found(finding_id: str, text: str) -> Check:
    return Check(text, finding_id)


def not_found(finding_id: str, text: str) -> Check:
    return Check(text, finding_id, op="absent")


def compared(finding_id: str, key: str, op: str, other_key: str, text: str) -> Check:
    return Check(text, finding_id, key, op, None, other_key)


def lacks(finding_id: str, key: str, text_part: str, text: str) -> Check:
    return Check(text, finding_id, key, "lacks", text_part)


def stat(key: str, op: str, bound: float | int | str, text: str) -> Check:
    return Check(text, None, key, op, bound)


def evidence(finding_id: str, key: str, op: str, bound: float | int | str, text: str) -> Check:
    return Check(text, finding_id, key, op, bound)


class ParamError(ValueError):
    """A demo parameter is missing its bounds or is not a number."""


class UnknownDemo(KeyError):
    def __str__(self) -> str:
        return f"unknown demo {self.args[0]!r} (try `python main.py list`)"


@dataclass(frozen=True)
class Param:
    name: str
    default: float | int
    minimum: float | int
    maximum: float | int
    help: str
    unit: str = ""

    @property
    def kind(self) -> type:
        return int if isinstance(self.default, int) else float

    def parse(self, raw: str | float | int | None) -> float | int:
        if raw is None or raw == "":
            return self.default
        try:
            value = self.kind(raw)
        except (TypeError, ValueError):
            raise ParamError(
                f"{self.name} must be {'a whole number' if self.kind is int else 'a number'}, got {raw!r}"
            ) from None
        if value != value or not (self.minimum <= value <= self.maximum):  # NaN fails too
            raise ParamError(f"{self.name} must be between {self.minimum} and {self.maximum}{self.unit}, got {raw}")
        return value


@dataclass(frozen=True)
class Demo:
    id: str
    group: str
    title: str
    lesson: str
    view: Callable[..., Any]
    params: tuple[Param, ...] = ()
    expect_status: int = 200
    # The one HTTP method the demo runs for; any other is answered 405 before the view runs.
    # A demo that changes rows declares "POST" (and then also needs the app's token).
    method: str = "GET"
    twin: str | None = None
    # Seconds the demo will block the event loop for, given its parameters (and so
    # freeze everything on that loop, the explorer's window included); None if never.
    blocks_loop: Callable[[Mapping[str, Any]], float] | None = None
    attribution: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # What the default run must show for the lesson to be true (tests/engine/test_claims.py).
    checks: tuple[Check, ...] = ()

    @property
    def path(self) -> str:
        return f"/demo/{self.id}/"

    @property
    def lesson_html(self) -> str:
        """The lesson as HTML, its `code` in <code> (the index page and the window show this)."""
        from .markup import lesson_html

        return lesson_html(self.lesson)

    @property
    def title_html(self) -> str:
        from .markup import lesson_html

        return lesson_html(self.title)

    @property
    def fails_on_purpose(self) -> bool:
        return self.expect_status >= 400

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.view)

    @property
    def source(self) -> str:
        """The view's real source code, read from its module (decorators left out)."""
        lines = textwrap.dedent(inspect.getsource(self.view)).splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("def ", "async def ")):
                lines = lines[i:]
                break
        return "\n".join(lines) + "\n"

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def parse_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check parameters against their bounds; unknown names are refused too."""
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ParamError(f"{self.id} takes no parameter {', '.join(unknown)} (it takes: {allowed})")
        return {p.name: p.parse(given.get(p.name)) for p in self.params}

    def loop_block_s(self, params: Mapping[str, Any]) -> float:
        return self.blocks_loop({**self.defaults(), **params}) if self.blocks_loop else 0.0


_registry: dict[str, Demo] = {}


def demo(id: str, **entry: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated view as demo ``id``; keyword arguments fill its ``Demo`` entry."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        if id in _registry:
            raise ValueError(f"demo id {id!r} registered twice")
        if entry.get("method", "GET") not in METHODS:
            raise ValueError(f"demo {id!r}: method must be one of {', '.join(METHODS)}")
        _registry[id] = Demo(id=id, view=view, **entry)
        return view

    return register


def all_demos() -> list[Demo]:
    for module in VIEW_MODULES:
        importlib.import_module(module)
    return sorted(_registry.values(), key=lambda d: GROUPS.index(d.group))


def get_demo(demo_id: str) -> Demo:
    demos = {d.id: d for d in all_demos()}
    if demo_id not in demos:
        raise UnknownDemo(demo_id)
    return demos[demo_id]
