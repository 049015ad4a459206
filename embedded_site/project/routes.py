"""The project's URL patterns, walked from its URLconf, and its views wrapped for tracing.

``get_resolver()`` is walked through nested ``include()``s and namespaces; each pattern
becomes a ``Route``: its pattern text, name, the arguments it takes (with the converter of
a ``path()`` argument, or the group of a ``re_path()``), and the view's file and line.  A
route without arguments can be run as it is; one with arguments needs values for them.

The same walk wraps every view with ``tracing.views.traced_view`` (keeping it sync or
async), so a project's view is a view span in the timeline like a demo's.
"""

from __future__ import annotations

import inspect
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from . import ProjectError

_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>")
_ROUTE_ARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Arg:
    name: str
    converter: str  # "int", "str", "slug", "uuid", "path", a custom one's name, or "regex"


@dataclass(frozen=True)
class Route:
    pattern: str  # as written, joined across includes: "blog/<int:pk>/"
    name: str | None  # "namespace:name"
    view: str  # the view's dotted name
    source: str  # "shop/views.py:12"
    args: tuple[Arg, ...] = field(default_factory=tuple)
    is_async: bool = False
    code: str = ""  # the view's source text, as the catalogue shows a demo's

    @property
    def path(self) -> str | None:
        """The URL to run when the route takes no arguments (None when it does)."""
        if self.args:
            return None
        text = self.pattern
        if _looks_like_regex(text):
            text = text.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
            if any(c in text for c in "()[]*+?|{}"):
                return None
        return "/" + text

    def fill(self, values: dict[str, str]) -> str:
        """The URL with ``values`` for its arguments (path() patterns only)."""

        def put(match: re.Match) -> str:
            name = match.group("name")
            if name not in values:
                raise ProjectError(f"{self.pattern} needs a value for {name}")
            return str(values[name])

        if _looks_like_regex(self.pattern):
            raise ProjectError(f"{self.pattern} is a regular expression: type the URL itself")
        return "/" + _ROUTE_ARG.sub(put, self.pattern)


def _looks_like_regex(text: str) -> bool:
    return text.startswith("^") or text.endswith("$") or "(?P<" in text


def _args_of(pattern) -> list[Arg]:
    from django.urls.resolvers import RegexPattern, RoutePattern

    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return [Arg(m.group("name"), m.group("converter") or "str") for m in _ROUTE_ARG.finditer(text)]
    if isinstance(pattern, RegexPattern):
        named = _REGEX_GROUP.findall(text)
        if named:
            return [Arg(n, "regex") for n in named]
        unnamed = re.compile(text).groups if _compiles(text) else 0
        return [Arg(f"arg{i + 1}", "regex") for i in range(unnamed)]
    return []


def _compiles(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


def _real_view(callback):
    """What a decorator or as_view() wraps: the function whose file and line are the view's."""
    cls = getattr(callback, "view_class", None)
    if cls is not None:
        return cls
    seen = 0
    while hasattr(callback, "__wrapped__") and seen < 20:
        callback, seen = callback.__wrapped__, seen + 1
    return callback


def _code(callback) -> str:
    try:
        return textwrap.dedent(inspect.getsource(_real_view(callback)))
    except (OSError, TypeError):
        return ""


def _source(callback, root: Path) -> tuple[str, str]:
    target = _real_view(callback)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    try:
        filename = inspect.getsourcefile(target) or ""
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return name, "?"
    if filename.startswith(str(root) + os.sep):
        shown = os.path.relpath(filename, root)
    elif "-packages/" in filename:
        shown = filename.rsplit("-packages/", 1)[1]
    else:
        shown = filename
    return name, f"{shown}:{line}"


def walk(root: Path, wrap: bool = False, with_code: bool = False) -> list[Route]:
    """Every pattern of the project's URLconf, in resolution order (with ``wrap``, each
    view is replaced by its traced wrapper, once; with ``with_code``, its source is read)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from ..tracing.views import traced_view
    from .steps import held_steps

    routes: list[Route] = []

    def visit(resolver, prefix: str, namespace: str, depth: int) -> None:
        if depth > 30:
            raise ProjectError(f"the URLconf nests include() more than 30 deep at {prefix!r}")
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = entry.namespace
                visit(entry, prefix + str(entry.pattern), f"{namespace}{ns}:" if ns else namespace, depth + 1)
            elif isinstance(entry, URLPattern):
                callback = entry.callback
                view, source = _source(callback, root)
                is_async = inspect.iscoroutinefunction(callback) or bool(
                    getattr(getattr(callback, "view_class", None), "view_is_async", False)
                )
                if wrap and not getattr(callback, "_explorer_traced", False):
                    short = view.rsplit(".", 1)[-1]
                    inner = held_steps(callback, short) if inspect.iscoroutinefunction(callback) else callback
                    traced = traced_view(inner, short)
                    traced._explorer_traced = True
                    entry.callback = traced
                pattern = prefix + str(entry.pattern)
                args = [a for r in _chain_patterns(prefix, entry) for a in r]
                routes.append(
                    Route(
                        pattern,
                        f"{namespace}{entry.name}" if entry.name else None,
                        view,
                        source,
                        tuple(args),
                        is_async,
                        _code(callback) if with_code else "",
                    )
                )

    try:
        visit(get_resolver(), "", "", 0)
    except ProjectError:
        raise
    except Exception as exc:
        from . import active
        from .loading import _import_error

        project = active()
        if project is None:
            raise
        raise _import_error(project, exc, "the URLconf cannot be walked") from None
    return routes


def _chain_patterns(prefix: str, entry) -> list[list[Arg]]:
    """The arguments the whole pattern takes: the include prefixes' and the pattern's own."""
    from django.urls.resolvers import RegexPattern, RoutePattern

    found = []
    if prefix:
        if _looks_like_regex(prefix):
            found.append(_args_of(RegexPattern(prefix)))
        else:
            found.append(_args_of(RoutePattern(prefix)))
    found.append(_args_of(entry.pattern))
    return found
