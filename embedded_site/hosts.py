"""Refuse requests whose Host header is not a loopback name (DNS-rebinding protection).

Django checks ALLOWED_HOSTS only when something calls ``request.get_host()``; the usual
caller, CommonMiddleware, is sync-only and would add two thread hops to every request,
so this async-capable middleware makes the check instead.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


class AllowedHostMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        request.get_host()  # raises DisallowedHost, which Django answers with 400
        # In an async chain this returns the coroutine, which Django awaits.
        return self.get_response(request)
