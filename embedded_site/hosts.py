"""Refuse requests whose Host header is not a loopback name (DNS-rebinding protection).

Django checks ALLOWED_HOSTS only when something calls ``request.get_host()``; the usual
caller, CommonMiddleware, runs its hooks through sync_to_async and would add thread hops to
every request, so this middleware makes the check itself, on whichever side it runs.
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin


class AllowedHostMiddleware(MiddlewareMixin):
    def __call__(self, request):
        request.get_host()  # raises DisallowedHost, which Django answers with 400
        # In an async chain this returns MiddlewareMixin's coroutine, which Django awaits;
        # with no process_request/process_response hooks it makes no thread hop.
        return super().__call__(request)
