"""Turn a catalogue entry into a URL endpoint: check the request and its parameters, then call the traced view.

Before the view runs: a method other than the demo's own is answered with 405 (so an
OPTIONS preflight never runs a view), a writing demo without the app's token with 403,
and an out-of-range or malformed parameter with 400; each with a sentence saying why.
The endpoint is async for an async view and sync for a sync view, so Django treats it
exactly as it would treat the bare view.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..apptoken import HEADER, carries_app_token
from ..tracing.views import traced_view
from .catalogue import Demo, ParamError


def _bad_request(demo: Demo, error: ParamError) -> HttpResponse:
    return JsonResponse({"demo": demo.id, "error": str(error)}, status=400)


def refusal(demo: Demo, request: HttpRequest) -> HttpResponse | None:
    """The answer to a request the demo must not run for, or None when it may run."""
    if request.method != demo.method:
        error = f"{demo.id} runs for {demo.method} only, not {request.method}"
        response = JsonResponse({"demo": demo.id, "error": error}, status=405)
        response["Allow"] = demo.method
        return response
    if demo.method != "GET" and not carries_app_token(request):
        error = f"{demo.id} changes the database, so it runs only with the explorer's own {HEADER}"
        return JsonResponse({"demo": demo.id, "error": error}, status=403)
    return None


def make_endpoint(demo: Demo) -> Callable[[HttpRequest], HttpResponse]:
    view = traced_view(demo.view, demo.id)
    if inspect.iscoroutinefunction(view):

        async def async_endpoint(request: HttpRequest) -> HttpResponse:
            if (refused := refusal(demo, request)) is not None:
                return refused
            try:
                params = demo.parse_params(request.GET.dict())
            except ParamError as error:
                return _bad_request(demo, error)
            return await view(request, **params)

        return async_endpoint

    def sync_endpoint(request: HttpRequest) -> HttpResponse:
        if (refused := refusal(demo, request)) is not None:
            return refused
        try:
            params = demo.parse_params(request.GET.dict())
        except ParamError as error:
            return _bad_request(demo, error)
        return view(request, **params)

    return sync_endpoint
