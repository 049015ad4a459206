"""Turn a catalogue entry into a URL endpoint: parse and check its parameters, then call the traced view.

An out-of-range or malformed parameter is answered with 400 and a sentence saying what
is allowed, before the view runs.  The endpoint is async for an async view and sync for
a sync view, so Django treats it exactly as it would treat the bare view.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..tracing.views import traced_view
from .catalogue import Demo, ParamError


def _bad_request(demo: Demo, error: ParamError) -> HttpResponse:
    return JsonResponse({"demo": demo.id, "error": str(error)}, status=400)


def make_endpoint(demo: Demo) -> Callable[[HttpRequest], HttpResponse]:
    view = traced_view(demo.view, demo.id)
    if inspect.iscoroutinefunction(view):

        async def async_endpoint(request: HttpRequest) -> HttpResponse:
            try:
                params = demo.parse_params(request.GET.dict())
            except ParamError as error:
                return _bad_request(demo, error)
            return await view(request, **params)

        return async_endpoint

    def sync_endpoint(request: HttpRequest) -> HttpResponse:
        try:
            params = demo.parse_params(request.GET.dict())
        except ParamError as error:
            return _bad_request(demo, error)
        return view(request, **params)

    return sync_endpoint
