"""Turn a catalogue entry into a URL endpoint: check the request and its parameters, then call the traced view.

Before the view runs: a method other than the demo's own is answered with 405 (so an
OPTIONS preflight never runs a view), a writing demo without the app's token with 403,
and an out-of-range or malformed parameter with 400; each with a sentence saying why.
The endpoint is async for an async view and sync for a sync view, so Django treats it
exactly as it would treat the bare view.  A browser (``Accept: text/html``) gets the
view's JSON answer inside a page saying what the demo demonstrates, linking its twin; the
load driver gets the bare answer.
"""

from __future__ import annotations

import inspect
import json
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


EXCEPTION_ATTRIBUTE = "explorer_exception"  # the exception the demo's view raised, for the error page


def note_failure(request: HttpRequest, exc: BaseException) -> None:
    """Keep what the view raised on the request: Django's 404 and 500 handlers get only the request."""
    if getattr(request, EXCEPTION_ATTRIBUTE, None) is None:
        setattr(request, EXCEPTION_ATTRIBUTE, exc)


def wants_a_page(request: HttpRequest) -> bool:
    """A browser navigating to the demo (Accept names text/html), not the load driver (*/*)."""
    return "text/html" in request.headers.get("Accept", "")


def browser_page(demo: Demo, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The view's JSON answer inside a page that says what the demo demonstrates and links its twin."""
    if not isinstance(response, JsonResponse) or not wants_a_page(request):
        return response
    from django.template.loader import render_to_string

    from .catalogue import all_demos

    twin = next((d for d in all_demos() if d.id == demo.twin), None)
    try:
        answer = json.dumps(json.loads(response.content), indent=2, ensure_ascii=False)
    except ValueError:
        answer = response.content.decode("utf-8", "replace")
    context = {"demo": demo, "twin": twin, "status": response.status_code, "answer": answer}
    page = HttpResponse(render_to_string("demos/demo.html", context), status=response.status_code)
    page["X-Frame-Options"] = "DENY"
    return page


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
            try:
                return browser_page(demo, request, await view(request, **params))
            except Exception as exc:
                note_failure(request, exc)
                raise

        return async_endpoint

    def sync_endpoint(request: HttpRequest) -> HttpResponse:
        if (refused := refusal(demo, request)) is not None:
            return refused
        try:
            params = demo.parse_params(request.GET.dict())
        except ParamError as error:
            return _bad_request(demo, error)
        try:
            return browser_page(demo, request, view(request, **params))
        except Exception as exc:
            note_failure(request, exc)
            raise

    return sync_endpoint
