"""Refuse requests that a page from another origin made the person's browser send.

The site listens on 127.0.0.1, but every web page the person opens can still make their
browser send requests there (a form, an image, fetch()).  Browsers say where such a
request comes from: ``Origin`` on anything but a plain GET navigation, and the Fetch
Metadata header ``Sec-Fetch-Site`` on everything (``none`` for a URL the person typed,
``same-origin`` for the site's own pages).  A request whose Origin is not the site's
own, or whose Sec-Fetch-Site is anything but ``none`` or ``same-origin``, is answered 403
with one line saying why, before any view runs.  The lab's own load driver sends neither
header, so it is unaffected.

The site's own origin is http://127.0.0.1, localhost or [::1] at the port the server is
bound to (the connection's local port, not anything the request says).

Like hosts.py, the check runs on whichever side of the chain it sits, with no thread hop.
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.decorators import sync_and_async_middleware

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ALLOWED_FETCH_SITES = ("none", "same-origin")


def own_origins(port: str) -> set[str]:
    """The origins of the site's own pages when it listens on ``port``."""
    origins = {f"http://{name}:{port}" for name in LOOPBACK_NAMES}
    if port == "80":  # a browser leaves the default port out of an origin
        origins |= {f"http://{name}" for name in LOOPBACK_NAMES}
    return origins


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The 403 for a request from another origin or site, or None when it may go on."""
    # META directly: request.headers would build a dict of every header, on every request.
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None and origin.lower() not in own_origins(request.META.get("SERVER_PORT", "")):
        why = f"requests from {origin[:100]!r} are refused: only the explorer's own pages may call it"
        return HttpResponseForbidden(why + "\n", content_type="text/plain; charset=utf-8")
    fetch_site = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetch_site is not None and fetch_site.lower() not in ALLOWED_FETCH_SITES:
        why = f"a {fetch_site[:40]!r} request is refused: only the explorer's own pages may call it"
        return HttpResponseForbidden(why + "\n", content_type="text/plain; charset=utf-8")
    return None


def guard_middleware(refuse: Callable[[HttpRequest], HttpResponse | None]) -> Callable:
    """A middleware (sync or async, as the chain below it is: no thread hop) that answers
    with ``refuse(request)`` when that says no, before anything further down runs."""

    @sync_and_async_middleware
    def guard(get_response: Callable) -> Callable:
        if iscoroutinefunction(get_response):

            async def async_guard(request: HttpRequest) -> HttpResponse:
                refused = refuse(request)
                return refused if refused is not None else await get_response(request)

            return async_guard

        def sync_guard(request: HttpRequest) -> HttpResponse:
            refused = refuse(request)
            return refused if refused is not None else get_response(request)

        return sync_guard

    return guard


origin_guard = guard_middleware(refusal)
