"""What stands between a browser and a person's project while the lab serves it.

The demo site's rules, kept for a project the lab did not write: the Host must be a
loopback name whatever the project's ALLOWED_HOSTS say (``["*"]`` is common in
development settings, and would let a DNS-rebinding page in); a request another site made
the browser send is refused (``origins.refusal``); and a method that may write (anything
but GET, HEAD) needs the lab's token, which only its own load driver sends, so a page can
never make the lab change the project's database.  Each refusal is answered before any of
the project's middleware or views run, with one line saying why.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden

from ..apptoken import HEADER, carries_app_token
from ..origins import LOOPBACK_NAMES, guard_middleware
from ..origins import refusal as cross_site_refusal

_PORT = re.compile(r":\d*\Z")
READ_METHODS = ("GET", "HEAD")


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request the lab must not pass to the project, or None."""
    host = _PORT.sub("", request.META.get("HTTP_HOST", "")).lower()
    if host not in LOOPBACK_NAMES:
        why = f"host {host[:100]!r} is refused: the lab serves this project on 127.0.0.1 only"
        return HttpResponseBadRequest(why + "\n", content_type="text/plain; charset=utf-8")
    refused = cross_site_refusal(request)
    if refused is not None:
        return refused
    if request.method not in READ_METHODS and not carries_app_token(request):
        why = f"{request.method} may change the project's database, so it runs only with the lab's own {HEADER}"
        return HttpResponseForbidden(why + "\n", content_type="text/plain; charset=utf-8")
    return None


lab_guard = guard_middleware(refusal)
