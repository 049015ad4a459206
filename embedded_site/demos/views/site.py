"""Pages of the site that are not demos: the index and the slow upstream the fan-out demos call."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ..catalogue import GROUPS, Param, ParamError, all_demos

UPSTREAM_DELAY = Param("delay", 0.2, 0.0, 10.0, "seconds the upstream takes to answer", " s")


async def index(request: HttpRequest) -> HttpResponse:
    demos = all_demos()
    groups = [(g, [d for d in demos if d.group == g]) for g in GROUPS]
    return await asyncio.to_thread(render, request, "demos/index.html", {"groups": groups})


async def slow_upstream(request: HttpRequest) -> JsonResponse:
    """A stand-in for a slow external API: answers after ``delay`` seconds without blocking."""
    try:
        delay = UPSTREAM_DELAY.parse(request.GET.get("delay"))
    except ParamError as error:
        return JsonResponse({"error": str(error)}, status=400)
    await asyncio.sleep(delay)
    return JsonResponse({"delay": delay, "answer": 42})
