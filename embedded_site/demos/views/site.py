"""Pages of the site that are not demos: the index and the slow upstream the fan-out demos call."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_safe

from ...apptoken import FORM_FIELD, app_token
from ..catalogue import GROUPS, Demo, Param, ParamError, all_demos
from ..endpoints import EXCEPTION_ATTRIBUTE

UPSTREAM_DELAY = Param("delay", 0.2, 0.0, 10.0, "seconds the upstream takes to answer", " s")


@require_safe
async def index(request: HttpRequest) -> HttpResponse:
    demos = all_demos()
    titles = {d.id: d.title_html for d in demos}
    groups = [(g, [(d, titles.get(d.twin or "")) for d in demos if d.group == g]) for g in GROUPS]
    # The page carries the app's token in the forms of the demos that write: only a page of
    # this same origin can read it, and no other site may frame it (a click-jacked form).
    context = {"groups": groups, "token_field": FORM_FIELD, "token": app_token()}
    response = await asyncio.to_thread(render, request, "demos/index.html", context)
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@require_GET
async def slow_upstream(request: HttpRequest) -> JsonResponse:
    """A stand-in for a slow external API: answers after ``delay`` seconds without blocking."""
    try:
        delay = UPSTREAM_DELAY.parse(request.GET.get("delay"))
    except ParamError as error:
        return JsonResponse({"error": str(error)}, status=400)
    await asyncio.sleep(delay)
    return JsonResponse({"delay": delay, "answer": 42})


def _demo_at(path: str) -> Demo | None:
    return next((d for d in all_demos() if d.path == path), None)


def _error_page(request: HttpRequest, status: int, exc: BaseException | None, fallback: str) -> HttpResponse:
    """What a demo URL raised, in words, with the demo's lesson and its twin; no traceback.

    Django gives the 500 handler only the request, so the demo's endpoint keeps the
    exception on it.  Any other URL, or a failure with nothing kept, gets Django's plain page.
    """
    demo = _demo_at(request.path)
    if demo is None or exc is None:
        title = "Not Found" if status == 404 else "Server Error (500)"
        body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{fallback}</p>"
        return HttpResponse(body, status=status)
    twin = next((d for d in all_demos() if d.id == demo.twin), None)
    message = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else ""
    context = {"demo": demo, "twin": twin, "status": status, "exception": type(exc).__name__, "message": message}
    return HttpResponse(render_to_string("demos/error.html", context), status=status)


def not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    # Only the Http404 a demo's own view raised is shown: a resolver miss carries Django's URL list.
    exc = getattr(request, EXCEPTION_ATTRIBUTE, None)
    return _error_page(request, 404, exc, "The requested resource was not found on this server.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(request, 500, getattr(request, EXCEPTION_ATTRIBUTE, None), "")
