"""The terminal's view of a served project: ``list --project`` prints its URL patterns, and
``run /url/ --project`` checks the URL and says which database the run will use."""

from __future__ import annotations

import argparse
import json
import sys

from embedded_site.project import ProjectError, active
from embedded_site.project.routes import Route, walk

from .config import ConfigError, RunConfig


def routes() -> list[Route]:
    """The project's URL patterns (raises ConfigError when its URLconf cannot be walked)."""
    project = active()
    assert project is not None, "activate a project first"
    try:
        return walk(project.root)
    except ProjectError as exc:
        raise ConfigError(str(exc)) from None


def route_json(route: Route) -> dict:
    return {
        "pattern": route.pattern,
        "name": route.name,
        "path": route.path,
        "args": {a.name: a.converter for a in route.args},
        "view": route.view,
        "source": route.source,
        "async": route.is_async,
    }


def list_routes(as_json: bool) -> int:
    project = active()
    assert project is not None
    try:
        found = routes()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if as_json:
        doc = {
            "project": str(project.root),
            "settings": project.settings_module,
            "routes": [route_json(r) for r in found],
        }
        print(json.dumps(doc, indent=2))
        return 0
    print(f"{project.name} ({project.settings_module}): {len(found)} URL patterns")
    for r in found:
        args = " ".join(f"{a.name}:{a.converter}" for a in r.args)
        kind = "async" if r.is_async else "sync"
        print(f"  /{r.pattern:40} {kind:5} {r.view}  {r.source}" + (f"  [{args}]" if args else ""))
    return 0


def url_config(args: argparse.Namespace) -> RunConfig:
    """The run ``run URL --project PATH`` asks for; the database line goes to stderr first."""
    from embedded_site.project.database import describe

    from .project_targets import make_url_config

    if not args.target.startswith("/"):
        raise ConfigError(f"with --project the target is a URL of the project starting with '/', got {args.target!r}")
    params = {p.partition("=")[0]: p.partition("=")[2] for p in args.param}
    config = make_url_config(
        args.target,
        method=args.method or "GET",
        concurrency=args.concurrency,
        requests=args.requests,
        duration_s=args.duration,
        rate=args.rate,
        params=params,
    )
    print(describe(active()), file=sys.stderr, flush=True)
    return config
