"""Set Django up with a project's own settings, with the lab's tracing added to them.

The settings module is imported in the lab's process; then, before ``django.setup``, the
lab adds what it adds to the demo site: its tracing middleware first (the whole chain as
one span), a loopback Host check and the cross-origin guard (see ``guard``), loopback
names in ALLOWED_HOSTS, and with ``db_copy`` the path of a copy of its SQLite file.
Nothing else of the project changes.  Any failure on the way is one ``ProjectError`` line.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import django

from . import MIN_DJANGO, Project, ProjectError

SETTINGS_ENV = "DJANGO_SETTINGS_MODULE"
LAB_MIDDLEWARE = [
    "embedded_site.tracing.middleware.TraceMiddleware",
    "embedded_site.project.guard.lab_guard",
]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def check_django_version() -> None:
    """Refuse a Django older than the lab's tracing was checked on."""
    if django.VERSION[:2] < MIN_DJANGO:
        raise ProjectError(
            f"the project would run on Django {django.get_version()} ({django.__file__.rsplit('/django/', 1)[0]}); "
            f"the lab serves projects on Django {MIN_DJANGO[0]}.{MIN_DJANGO[1]} LTS or newer"
        )


def missing_module_error(project: Project, exc: ModuleNotFoundError, during: str) -> ProjectError:
    """One line for an import that failed: the project's own module, or a dependency to install."""
    name = exc.name or str(exc)
    top = name.split(".", 1)[0]
    root = project.root
    if (root / top).is_dir() or (root / f"{top}.py").is_file():
        return ProjectError(f"{during}: module {name!r} is not in {str(root)!r} ({exc})")
    return ProjectError(
        f"the project needs module {top!r}, not installed here: run ./explorer --project {root} --install"
    )


def _import_error(project: Project, exc: BaseException, during: str) -> ProjectError:
    if isinstance(exc, ModuleNotFoundError):
        return missing_module_error(project, exc, during)
    where = _project_frame(exc, project.root)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return ProjectError(f"{during}: {type(exc).__name__}: {text}{where}"[:400])


def _project_frame(exc: BaseException, root: Path) -> str:
    """ " (at mysite/settings.py:12)": the innermost frame of the traceback in the project."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(str(root) + os.sep) and "site-packages" not in filename:
            found = f" (at {os.path.relpath(filename, root)}:{tb.tb_lineno})"
        tb = tb.tb_next
    return found or ""


def configure(project: Project) -> None:
    """Import the project's settings, add the lab's tracing to them and set Django up."""
    check_django_version()
    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    inherited = os.environ.get(SETTINGS_ENV)
    if inherited and inherited != project.settings_module:
        print(f"ignoring {SETTINGS_ENV}={inherited}: serving {project.settings_module}", file=sys.stderr, flush=True)
    os.environ[SETTINGS_ENV] = project.settings_module
    from django.conf import settings

    try:
        settings._setup()  # imports the module now, so its failure is reported as the settings'
    except ModuleNotFoundError as exc:
        if exc.name and project.settings_module.startswith(exc.name):
            raise ProjectError(f"no settings module {project.settings_module!r} in {root!r}") from None
        raise _import_error(project, exc, f"settings {project.settings_module} failed to import") from None
    except Exception as exc:
        raise _import_error(project, exc, f"settings {project.settings_module} failed to import") from None
    _add_lab_settings(settings, project)
    try:
        django.setup(set_prefix=False)
    except Exception as exc:
        raise _import_error(project, exc, "the project's apps failed to load") from None
    _quiet_request_errors()


def _quiet_request_errors() -> None:
    """Keep Django's "Internal Server Error" tracebacks off the terminal, as for the demo
    site: the lab records each exception with its request (shown in the details pane and
    counted in the summary), and a run of 1000 failing requests would print 1000 of them."""
    logger = logging.getLogger("django.request")
    logger.handlers = [logging.NullHandler()]
    logger.propagate = False


def _add_lab_settings(settings, project: Project) -> None:
    middleware = [m for m in settings.MIDDLEWARE if m not in LAB_MIDDLEWARE]
    settings.MIDDLEWARE = [*LAB_MIDDLEWARE, *middleware]
    hosts = list(settings.ALLOWED_HOSTS)
    settings.ALLOWED_HOSTS = hosts + [h for h in LOOPBACK_HOSTS if h not in hosts]
    if project.db_copy:
        from .database import point_at_copy

        point_at_copy(settings, project)
