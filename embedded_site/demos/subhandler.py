"""A second Django request handler with its own MIDDLEWARE or DATABASES, built by Django's own code.

Some demos are about settings the site cannot switch on for everyone: startproject's
middleware stack, ``ATOMIC_REQUESTS``.  Changing ``settings`` at run time would change
every other demo's requests too (and ``override_settings`` is a test tool that fires
``setting_changed`` for the whole process).  So the demo runs Django's own handler code
against its own setting: ``BaseHandler.load_middleware`` and ``BaseHandler.make_view_atomic``
are executed as they are (the same code object) with ``settings`` / ``connections``
resolved to an overlay that differs only in the one setting.  Nothing is re-implemented,
and nothing global changes.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.handlers import base
from django.db import connections
from django.urls import re_path

from ..tracing.views import note_exception
from .endpoints import note_failure


class SettingsOverlay:
    """The site's settings with some names answered differently."""

    def __init__(self, **changed: Any) -> None:
        self._changed = changed

    def __getattr__(self, name: str) -> Any:
        if name in self._changed:
            return self._changed[name]
        return getattr(settings, name)


class ConnectionsOverlay:
    """``django.db.connections`` whose ``settings`` say something else for some aliases."""

    def __init__(self, changed: Mapping[str, Mapping[str, Any]]) -> None:
        self.settings = {alias: {**connections.settings[alias], **changed.get(alias, {})} for alias in connections}


def with_globals(method: Callable[..., Any], **names: Any) -> Callable[..., Any]:
    """Django's ``method``, same code, reading some of its module's globals from ``names``."""
    function = getattr(method, "__func__", method)
    return types.FunctionType(function.__code__, {**function.__globals__, **names}, function.__name__)


class OwnSettingsHandler(base.BaseHandler):
    """A BaseHandler whose middleware chain and view wrapping follow its own settings.

    ``get_response_async(request)`` runs the request through the chain exactly as the
    site's ASGIHandler does after it has built the request: middleware, URL resolution
    (in ``urlconf``), view middleware, ``make_view_atomic``, the view.
    """

    def __init__(
        self,
        view: Callable[..., Any],
        middleware: Sequence[str] | None = None,
        databases: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        # Every path leads to the one view: the request keeps the URL it came in with.
        self.urlconf = types.ModuleType(f"{__name__}.urls_for_{view.__name__}")
        self.urlconf.urlpatterns = [re_path(r"", view)]
        # A failure inside is answered by the site's own error pages, as one outside would be.
        self.urlconf.handler404 = "embedded_site.demos.views.site.not_found"
        self.urlconf.handler500 = "embedded_site.demos.views.site.server_error"
        self._atomic = with_globals(base.BaseHandler.make_view_atomic, connections=ConnectionsOverlay(databases or {}))
        overlay = SettingsOverlay(MIDDLEWARE=list(settings.MIDDLEWARE if middleware is None else middleware))
        with_globals(base.BaseHandler.load_middleware, settings=overlay)(self, is_async=True)

    def make_view_atomic(self, view: Callable[..., Any]) -> Callable[..., Any]:
        return self._atomic(self, view)

    async def _get_response_async(self, request: Any) -> Any:
        # Django turns the exception into a 500 response in the chain above: note it first, as
        # the site's own view wrapper does, so the run shows what was raised.
        try:
            return await super()._get_response_async(request)
        except Exception as exc:
            note_exception(exc)
            note_failure(request, exc)
            raise

    async def handle(self, request: Any) -> Any:
        request.urlconf = self.urlconf
        return await self.get_response_async(request)
