"""Views the person writes in the window's playground, mounted on the running site.

Mounting is a Python call made by the app itself (``mount(slug, source)``): there is no
HTTP route that adds or changes code, so a web page cannot mount anything.  A mounted view
answers at ``/playground/<slug>/`` through the same middleware as the demos (origin guard,
host check, tracing) and through the same endpoint wrapper (method check, the app's token
for POST, parameters parsed and bounded, the view's time and exception recorded), because
it *is* a catalogue entry: a ``PlaygroundDemo`` with id ``playground:<slug>``.

The snippet is compiled with the file name ``playground/<slug>.py`` and its lines are put in
``linecache``, so a traceback and the loop watchdog's culprit name the snippet's own line.

A snippet declares what a demo declares, as module-level names (all optional):

``PARAMS = {"delay": (0.5, 0, 10, "seconds to wait")}``
    each parameter as ``(default, minimum, maximum)`` or ``(default, minimum, maximum,
    help)``; an int default makes a whole-number parameter.  The view receives them as
    keyword arguments, parsed and checked, exactly as a demo's view does.
``METHOD = "POST"``
    for a view that writes (it then needs the app's token, as a writing demo does).
``TITLE = "..."``
    the title shown in the catalogue (else the view's docstring's first line).

The view is the function named ``view``, or the one named when mounting, or the only
function the snippet defines.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import re
import sys
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.urls.resolvers import ResolverMatch, RoutePattern

from .demos.catalogue import METHODS, Demo, Param
from .demos.endpoints import make_endpoint

PREFIX = "playground:"
GROUP = "Playground"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ROUTE = "playground/<slug:slug>/"

ASYNC_STARTER = '''\
"""An async view of your own: it shares the event loop with every other request."""

import asyncio

from django.http import JsonResponse

from embedded_site.tracing import span

PARAMS = {"delay": (0.5, 0.0, 10.0, "seconds to wait")}


async def view(request, delay):
    with span("await", "asyncio.sleep"):
        await asyncio.sleep(delay)
    return JsonResponse({"slept": delay})
'''

SYNC_STARTER = '''\
"""A sync view of your own: Django runs it in a thread of its own."""

import time

from django.http import JsonResponse

from embedded_site.demos.models import Book

PARAMS = {"delay": (0.2, 0.0, 10.0, "seconds to sleep")}


def view(request, delay):
    time.sleep(delay)
    count = Book.objects.count()
    return JsonResponse({"slept": delay, "books": count})
'''


class MountError(ValueError):
    """The snippet cannot be mounted; ``line`` is where (1-based), when one line is to blame."""

    def __init__(self, message: str, line: int | None = None, filename: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.filename = filename

    def __str__(self) -> str:
        where = f"{self.filename}:{self.line}: " if self.filename and self.line else ""
        where = where or (f"{self.filename}: " if self.filename else "")
        return where + self.message


@dataclass(frozen=True)
class PlaygroundDemo(Demo):
    """A catalogue entry for a mounted snippet: served at /playground/<slug>/, its source the snippet."""

    slug: str = ""
    code: str = ""
    filename: str = ""

    @property
    def path(self) -> str:
        return f"/playground/{self.slug}/"

    @property
    def source(self) -> str:
        return self.code


@dataclass(frozen=True)
class _Mounted:
    demo: PlaygroundDemo
    endpoint: Callable[[HttpRequest], HttpResponse]


_mounted: dict[str, _Mounted] = {}


def target_id(slug: str) -> str:
    return PREFIX + slug


def slug_of(target: str) -> str | None:
    """The slug of a ``playground:<slug>`` target id, or None for any other id."""
    return target[len(PREFIX) :] if target.startswith(PREFIX) else None


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise MountError(
            f"a playground name is 1–40 lower-case letters, digits and dashes (not starting with a dash), got {slug!r}"
        )
    return slug


def filename_for(slug: str) -> str:
    return f"playground/{slug}.py"


def compile_view(slug: str, source: str, name: str | None = None, filename: str | None = None) -> PlaygroundDemo:
    """Compile and run the snippet in a fresh module and return its catalogue entry (not mounted yet).

    Raises MountError naming the line for a syntax error, a failing import or any exception
    while the module runs, and for a missing view or a malformed declaration.
    """
    check_slug(slug)
    filename = filename or filename_for(slug)
    try:
        tree = ast.parse(source, filename)
        code = compile(tree, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise MountError(f"{type(exc).__name__}: {exc.msg}", exc.lineno, filename) from None
    except ValueError as exc:  # e.g. a NUL byte in the source
        raise MountError(str(exc), None, filename) from None
    # Until it is mounted, a failure must leave what is served (and its source lines) as they were.
    previous_lines = linecache.cache.get(filename)
    name_in_modules = f"playground_{slug.replace('-', '_')}"
    previous_module = sys.modules.get(name_in_modules)
    _remember_lines(filename, source)
    module = types.ModuleType(name_in_modules, None)
    module.__file__ = filename
    sys.modules[name_in_modules] = module  # dataclasses and pickling look a class's module up
    try:
        try:
            exec(code, module.__dict__)  # noqa: S102 (the person's own code, mounted by the app only)
        except (Exception, SystemExit) as exc:  # every failure of their code is reported, never raised
            raise MountError(f"{type(exc).__name__}: {exc}", _line_in(exc, filename), filename) from None
        view = _pick_view(module, name, filename, tree)
        params = _params(module.__dict__.get("PARAMS", {}), filename, _assigned_line(tree, "PARAMS"))
        method = module.__dict__.get("METHOD", "GET")
        if method not in METHODS:
            line = _assigned_line(tree, "METHOD")
            raise MountError(f"METHOD must be one of {', '.join(METHODS)}, got {method!r}", line, filename)
        _check_signature(view, params, filename)
    except MountError:
        if previous_lines is not None:
            linecache.cache[filename] = previous_lines
        else:
            linecache.cache.pop(filename, None)
        if previous_module is not None:
            sys.modules[name_in_modules] = previous_module
        else:
            sys.modules.pop(name_in_modules, None)
        raise
    title = str(module.__dict__.get("TITLE") or _first_line(view.__doc__) or _first_line(module.__doc__) or "")
    kind = "async" if inspect.iscoroutinefunction(view) else "sync"
    return PlaygroundDemo(
        id=target_id(slug),
        group=GROUP,
        title=f"{slug}: {title}" if title else f"{slug} ({kind} view)",
        lesson=f"Your own {kind} view {view.__name__} from {filename}, mounted at /playground/{slug}/.",
        view=view,
        params=params,
        method=method,
        slug=slug,
        code=source,
        filename=filename,
    )


def mount(slug: str, source: str, name: str | None = None, filename: str | None = None) -> PlaygroundDemo:
    """Compile the snippet and serve it at /playground/<slug>/, replacing what was there.

    On a MountError nothing changes: the view mounted before (if any) keeps serving.
    """
    demo = compile_view(slug, source, name, filename)
    _mounted[slug] = _Mounted(demo, make_endpoint(demo))
    return demo


def unmount(slug: str) -> None:
    _mounted.pop(slug, None)


def mounted() -> dict[str, PlaygroundDemo]:
    """Every mounted snippet's catalogue entry, by target id."""
    return {m.demo.id: m.demo for m in _mounted.values()}


def _remember_lines(filename: str, source: str) -> None:
    """Give linecache the snippet (no mtime: checkcache keeps it), so tracebacks show its lines."""
    lines = [line + "\n" for line in source.splitlines()]
    linecache.cache[filename] = (len(source), None, lines, filename)


def _line_in(exc: BaseException, filename: str) -> int | None:
    """The innermost line of the snippet in the exception's traceback (or its syntax error line)."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _assigned_line(tree: ast.Module, name: str) -> int | None:
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node.lineno
    return None


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


def _pick_view(module: types.ModuleType, name: str | None, filename: str, tree: ast.Module) -> Callable[..., Any]:
    namespace = module.__dict__
    if name is not None:
        view = namespace.get(name)
        if not callable(view):
            raise MountError(f"the snippet defines no function {name!r}", None, filename)
        return view
    if callable(namespace.get("view")):
        return namespace["view"]
    own = [obj for obj in namespace.values() if inspect.isfunction(obj) and obj.__code__.co_filename == filename]
    top = [f for f in own if f.__qualname__ == f.__name__]
    if len(top) == 1:
        return top[0]
    names = ", ".join(f.__name__ for f in top)
    raise MountError(
        "define a function named `view`" + (f" or name one of {names}" if names else " (the snippet defines none)"),
        None,
        filename,
    )


def _params(declared: Any, filename: str, line: int | None) -> tuple[Param, ...]:
    if not isinstance(declared, Mapping):
        raise MountError("PARAMS must be a dict of name: (default, minimum, maximum[, help])", line, filename)
    params = []
    for key, spec in declared.items():
        if isinstance(spec, Param):
            params.append(spec)
            continue
        if not isinstance(key, str) or not key.isidentifier():
            raise MountError(f"PARAMS: a parameter name must be an identifier, got {key!r}", line, filename)
        if not isinstance(spec, (tuple, list)) or len(spec) not in (3, 4):
            raise MountError(f"PARAMS[{key!r}] must be (default, minimum, maximum[, help])", line, filename)
        default, lo, hi = spec[:3]
        help_text = str(spec[3]) if len(spec) == 4 else key
        numbers = (default, lo, hi)
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in numbers):
            raise MountError(f"PARAMS[{key!r}]: default, minimum and maximum must be numbers", line, filename)
        if not lo <= default <= hi:
            raise MountError(f"PARAMS[{key!r}]: the default {default} is not between {lo} and {hi}", line, filename)
        if isinstance(default, int):
            params.append(Param(key, default, lo, hi, help_text))
        else:
            params.append(Param(key, float(default), float(lo), float(hi), help_text))
    return tuple(params)


def _check_signature(view: Callable[..., Any], params: tuple[Param, ...], filename: str) -> None:
    try:
        inspect.signature(view).bind(None, **{p.name: p.default for p in params})
    except TypeError as exc:
        line = getattr(getattr(view, "__code__", None), "co_firstlineno", None)
        names = ", ".join(p.name for p in params) or "no parameters"
        raise MountError(
            f"{getattr(view, '__name__', 'the view')} must take (request, {names}) as PARAMS declares: {exc}",
            line,
            filename,
        ) from None


def _unmounted(request: HttpRequest) -> HttpResponse:  # never called: resolve() answers 404 instead
    raise AssertionError("no playground view is mounted here")


class PlaygroundPattern(URLPattern):
    """``playground/<slug>/``, resolved to whatever is mounted at that slug right now (404 if nothing).

    Resolving returns the mounted endpoint itself as the view, so Django adapts a sync
    snippet (a thread hop) or calls an async one exactly as it does a demo's endpoint.
    """

    def resolve(self, path: str) -> ResolverMatch | None:
        match = self.pattern.match(path)
        if not match:
            return None
        _new_path, _args, captured = match
        entry = _mounted.get(captured.get("slug", ""))
        if entry is None:
            return None
        return ResolverMatch(
            entry.endpoint, (), {}, self.pattern.name, route=str(self.pattern), captured_kwargs={}, extra_kwargs={}
        )


def urlpattern() -> PlaygroundPattern:
    return PlaygroundPattern(RoutePattern(ROUTE, name="playground", is_endpoint=True), _unmounted, name="playground")


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def _literal(value: Any) -> str:
    return repr(value)


def snippet_for(demo: Demo) -> str:
    """A snippet that mounts as the demo does: the imports its view needs, its PARAMS, its source.

    A demo's source is its view function alone; its module's globals are brought in by
    name (a module as ``import``, anything else ``from <the demo's module> import``), so the
    copy runs unchanged and the person can edit from there.
    """
    if isinstance(demo, PlaygroundDemo):
        return demo.code
    view = inspect.unwrap(demo.view)
    module = inspect.getmodule(view)
    namespace = vars(module) if module is not None else {}
    modules: list[str] = []
    objects: list[str] = []
    for name in sorted(_names_used(view.__code__)):
        if name not in namespace or name == view.__name__:
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            modules.append(f"import {value.__name__}" + (f" as {name}" if value.__name__ != name else ""))
        elif module is not None:
            objects.append(name)
    title = demo.title.replace("\\", "").replace('"', "'")
    lines = [f'"""{title}"""', "", f"# Copied from the demo {demo.id}: change it, then Mount (Ctrl+Enter).", ""]
    lines += ["from __future__ import annotations", ""]
    lines += modules + ([""] if modules and objects else [])
    if objects:
        lines.append(f"from {module.__name__} import {', '.join(objects)}")
    if demo.params:
        lines += ["", "PARAMS = {"]
        for p in demo.params:
            spec = (p.default, p.minimum, p.maximum, p.help)
            lines.append(f"    {p.name!r}: ({', '.join(_literal(v) for v in spec)}),")
        lines.append("}")
    if demo.method != "GET":
        lines += ["", f"METHOD = {demo.method!r}"]
    return "\n".join(lines) + "\n\n\n" + demo.source
