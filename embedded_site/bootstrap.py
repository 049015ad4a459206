"""Bring the embedded site up: configure Django, migrate and seed, build the ASGI app.

``prepare_database`` makes synchronous ORM calls, so it must run before the event loop
starts (or off it): once an asyncio loop runs on this thread Django refuses them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

from . import project
from .datadir import SiteSetupError, exclusive, set_aside_unusable_database
from .dbconfig import is_postgres

SETTINGS_MODULE = "embedded_site.settings"
SETTINGS_ENV = "DJANGO_SETTINGS_MODULE"
_configured = False

__all__ = ["SiteSetupError", "asgi_application", "prepare_database", "setup_django"]


def use_own_settings() -> None:
    """Point Django at the lab's settings, whatever the shell says.

    Django developers' shells often export their project's ``DJANGO_SETTINGS_MODULE``; the
    lab must not serve (or migrate into) that project, so the inherited value is replaced,
    with one line saying so.  Child processes inherit the lab's value from here on.
    """
    inherited = os.environ.get(SETTINGS_ENV)
    if inherited and inherited != SETTINGS_MODULE:
        print(f"ignoring {SETTINGS_ENV}={inherited}: the lab serves its own site", file=sys.stderr, flush=True)
    os.environ[SETTINGS_ENV] = SETTINGS_MODULE


def setup_django() -> None:
    """Configure Django with the lab's settings (raises SiteSetupError for an unusable data dir)."""
    global _configured
    if _configured:
        return
    if project.active() is not None:  # a person's own project instead of the demo site
        from .project.serving import setup

        setup(project.active())
        _configured = True
        return
    use_own_settings()
    django.setup(set_prefix=False)
    from . import tracing

    tracing.install()
    _configured = True


def prepare_database() -> None:
    """Apply migrations and seed the demo rows if the database is new (a project's own
    database is never migrated or seeded: see ``project.database``)."""
    setup_django()
    if project.active() is not None:
        return
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from .demos.seed import ensure_demo_user, seed_if_empty
    from .demos.views.orm import delete_write_demo_leftovers

    connection.close()
    # Several instances may start at once on a fresh data dir: one at a time checks the file,
    # migrates and seeds, and the others then find the work done.
    with exclusive(settings.DATA_DIR):
        if not is_postgres(settings.DATABASES):
            set_aside_unusable_database(Path(settings.DATABASES["default"]["NAME"]))
        call_command("migrate", verbosity=0, interactive=False)
        seed_if_empty()
        ensure_demo_user()
        delete_write_demo_leftovers()
        connection.close()


def asgi_application():
    """The traced Django ASGI application (call after ``setup_django``)."""
    setup_django()
    from django.core.handlers.asgi import ASGIHandler

    from .project.serving import application as project_application
    from .tracing import collector
    from .tracing.asgi import TracedApplication

    served = project.active()
    return TracedApplication(project_application(served) if served else ASGIHandler(), collector)
