"""Refuse requests whose Host header is not a loopback name (DNS-rebinding protection).

Django checks ALLOWED_HOSTS only when something calls ``request.get_host()``; the usual
caller, CommonMiddleware, runs its hooks through sync_to_async and would add thread hops to
every request, so this middleware makes the check itself, on whichever side it runs.

Django ignores a trailing dot when it matches a host (``localhost.`` passes as
``localhost``), but ``localhost.`` is a fully qualified name a resolver may send off the
machine, so it is refused here too.
"""

from __future__ import annotations

import re

from django.core.exceptions import DisallowedHost
from django.utils.deprecation import MiddlewareMixin

_PORT = re.compile(r":\d*\Z")


class AllowedHostMiddleware(MiddlewareMixin):
    def __call__(self, request):
        host = request.get_host()  # raises DisallowedHost, which Django answers with 400
        if _PORT.sub("", host).endswith("."):
            raise DisallowedHost(f"Invalid HTTP_HOST header: {host!r}. A trailing dot is not a loopback name.")
        # In an async chain this returns MiddlewareMixin's coroutine, which Django awaits;
        # with no process_request/process_response hooks it makes no thread hop.
        return super().__call__(request)
