"""Bring the embedded site up: configure Django, migrate and seed, build the ASGI app.

``prepare_database`` makes synchronous ORM calls, so it must run before the event loop
starts (or off it): once an asyncio loop runs on this thread Django refuses them.
"""

from __future__ import annotations

import os

import django

SETTINGS_MODULE = "embedded_site.settings"
_configured = False


def setup_django() -> None:
    global _configured
    if _configured:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    django.setup(set_prefix=False)
    from . import tracing

    tracing.install()
    _configured = True


def prepare_database() -> None:
    """Apply migrations and seed the demo rows if the database is new."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from .demos.seed import seed_if_empty

    call_command("migrate", verbosity=0, interactive=False)
    seed_if_empty()
    connection.close()


def asgi_application():
    """The traced Django ASGI application (call after ``setup_django``)."""
    setup_django()
    from django.core.handlers.asgi import ASGIHandler

    from .tracing import collector
    from .tracing.asgi import TracedApplication

    return TracedApplication(ASGIHandler(), collector)
