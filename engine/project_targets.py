"""Runs of a served project's URLs: a target that starts with ``/`` is a URL of the project.

A stream's ``demo`` is the URL itself (``/shop/``), or ``POST /shop/cart/`` when the person
chose another method than GET: the name every view, export and history shows is then what
was sent.  A URL is checked against the project's URLconf before anything runs.
"""

from __future__ import annotations

from typing import Any

from embedded_site.project import ProjectError, active

from .config import ConfigError, RunConfig, Stream, check_run

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def is_url_target(target: str) -> bool:
    method, _, rest = target.partition(" ")
    return target.startswith("/") or (method in METHODS and rest.startswith("/"))


def split(target: str) -> tuple[str, str]:
    """(method, URL) of a stream's target."""
    if target.startswith("/"):
        return "GET", target
    method, _, url = target.partition(" ")
    return method, url


def target_name(method: str, url: str) -> str:
    return url if method == "GET" else f"{method} {url}"


def check_url(url: str) -> None:
    """Refuse a URL the project's URLconf does not match, or one that is not a plain path."""
    from urllib.parse import urlsplit

    from django.urls import Resolver404, resolve

    if active() is None:
        raise ConfigError(f"{url!r} is a URL of a project: give the project with --project PATH")
    if any(c.isspace() for c in url) or url.startswith("//"):
        raise ConfigError(f"{url!r} is not a URL path: give one like /shop/items/")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        raise ConfigError(f"{url!r} is not a URL path: give one like /shop/items/")
    try:
        resolve(parts.path)
    except Resolver404:
        raise ConfigError(
            f"no URL pattern of {active().name} matches {parts.path!r} (see `main.py list --project PATH`)"
        ) from None
    except ProjectError as exc:
        raise ConfigError(str(exc)) from None
    except Exception as exc:  # a URLconf that raises while resolving
        raise ConfigError(f"resolving {parts.path!r} failed: {type(exc).__name__}: {exc}") from None


def make_url_config(
    target: str,
    *,
    method: str = "GET",
    concurrency: int | None = None,
    requests: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    params: dict[str, Any] | None = None,
) -> RunConfig:
    """A checked run of one URL of the served project (``params`` are not allowed: put
    query arguments in the URL)."""
    if params:
        raise ConfigError("--param is for demos; give a project URL's query in the URL itself (/search/?q=x)")
    if not target.startswith("/"):  # "POST /cart/": the method is part of the target
        method, target = split(target)
    method = method.upper()
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    check_url(target)
    if concurrency is None:
        concurrency = 10
    if requests is None and duration_s is None:
        requests = concurrency
    name = target_name(method, target)
    stream = Stream(name, {}, concurrency=concurrency, requests=requests, duration_s=duration_s, rate=rate)
    config = RunConfig(name, (stream,), f"{method} {target} of {active().name}")
    check_run(config)
    return config
