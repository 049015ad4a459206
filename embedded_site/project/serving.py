"""Bring a project up for the lab: its settings with tracing added, its views wrapped, and
its own ASGI application found (``ASGI_APPLICATION``, else ``<settings package>.asgi``, else
Django's handler), so the server runs exactly what the project deploys."""

from __future__ import annotations

import importlib.util

from . import Project, ProjectError
from .loading import _import_error, _quiet_request_errors, configure
from .routes import walk


def setup(project: Project) -> None:
    """Configure Django for the project and hook the lab's tracing into it (once per process)."""
    from .. import tracing
    from ..tracing import watchdog

    configure(project)
    tracing.install()
    watchdog.add_source_root(project.root)
    walk(project.root, wrap=True)


def application(project: Project):
    """The project's own ASGI application (call after ``setup``)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    dotted = getattr(settings, "ASGI_APPLICATION", None)
    if not dotted:
        package = project.settings_module.rpartition(".")[0]
        candidate = f"{package}.asgi" if package else "asgi"
        try:
            found = importlib.util.find_spec(candidate) is not None
        except (ImportError, ValueError):
            found = False
        dotted = f"{candidate}.application" if found else None
    if dotted is None:
        from django.core.handlers.asgi import ASGIHandler

        return ASGIHandler()
    try:
        app = import_string(dotted)
    except Exception as exc:
        raise _import_error(project, exc, f"the project's ASGI application {dotted} failed to import") from None
    finally:
        _quiet_request_errors()  # its django.setup() configured logging again
    if not callable(app):
        raise ProjectError(f"the project's ASGI application {dotted} is not callable")
    return app
