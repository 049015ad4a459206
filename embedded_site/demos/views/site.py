"""Pages of the site that are not demos: the index and the slow upstream the fan-out demos call."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_safe

from ...apptoken import FORM_FIELD, app_token
from ..catalogue import GROUPS, Param, ParamError, all_demos

UPSTREAM_DELAY = Param("delay", 0.2, 0.0, 10.0, "seconds the upstream takes to answer", " s")


@require_safe
async def index(request: HttpRequest) -> HttpResponse:
    demos = all_demos()
    groups = [(g, [d for d in demos if d.group == g]) for g in GROUPS]
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
