"""A real Django project made the way a person makes one: ``django-admin startproject``,
``startapp``, a few views, ``makemigrations`` and ``migrate``, run by the given Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

VIEWS = """\
import time

from django.http import JsonResponse
from django.shortcuts import render

from .models import Item


async def blocking(request):
    time.sleep(0.3)  # blocks the event loop: every request in flight waits
    return JsonResponse({"slept": 0.3})


async def items(request):
    count = await Item.objects.acount()
    names = [i.name async for i in Item.objects.all()[:3]]
    return JsonResponse({"items": count, "names": names})


def page(request):
    return render(request, "shop/page.html", {"items": list(Item.objects.all()[:5])})


def item(request, pk):
    return JsonResponse({"pk": pk})


def archive(request, year):
    return JsonResponse({"year": year})
"""

URLS = """\
from django.urls import path, re_path

from . import views

app_name = "shop"
urlpatterns = [
    path("blocking/", views.blocking, name="blocking"),
    path("items/", views.items, name="items"),
    path("page/", views.page, name="page"),
    path("item/<int:pk>/", views.item, name="item"),
    re_path(r"^archive/(?P<year>[0-9]{4})/$", views.archive, name="archive"),
]
"""

MODELS = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
"""

TEMPLATE = "<ul>{% for i in items %}<li>{{ i.name }}</li>{% endfor %}</ul>\n"

# The line of time.sleep in VIEWS, for the culprit the lab must name.
BLOCKING_LINE = (
    VIEWS.splitlines().index("    time.sleep(0.3)  # blocks the event loop: every request in flight waits") + 1
)


def shell_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A person's shell: no DJANGO_SETTINGS_MODULE inherited from the test session (which
    serves the demo site in-process and so has the lab's own in its environment)."""
    env = dict(os.environ if base is None else base)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def project_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """``main_env`` (a private data dir) in a person's shell."""
    from tests.engine.mainproc import main_env

    return shell_env(main_env(tmp_path, **extra))


def run(python: str, args: list[str], cwd: Path) -> None:
    env = shell_env()
    env.pop("PYTHONPATH", None)  # manage.py finds the project from its own folder
    done = subprocess.run([python, *args], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")


def make_project(root: Path, python: str = sys.executable, migrate: bool = True) -> Path:
    """startproject mysite + app shop in ``root`` (created); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    run(python, ["-m", "django", "startproject", "mysite", str(root)], root)
    run(python, ["manage.py", "startapp", "shop"], root)
    shop = root / "shop"
    (shop / "views.py").write_text(VIEWS)
    (shop / "urls.py").write_text(URLS)
    (shop / "models.py").write_text(MODELS)
    (shop / "templates" / "shop").mkdir(parents=True)
    (shop / "templates" / "shop" / "page.html").write_text(TEMPLATE)
    settings = root / "mysite" / "settings.py"
    text = settings.read_text()
    text = re.sub(r"(INSTALLED_APPS = \[\n)", r"\1    'shop',\n", text, count=1)
    settings.write_text(text)
    urls = root / "mysite" / "urls.py"
    text = urls.read_text().replace("from django.urls import path", "from django.urls import include, path")
    text = re.sub(r"(urlpatterns = \[\n)", r"\1    path('shop/', include('shop.urls')),\n", text, count=1)
    urls.write_text(text)
    if migrate:
        run(python, ["manage.py", "makemigrations", "shop", "-v0"], root)
        run(python, ["manage.py", "migrate", "-v0"], root)
        run(
            python,
            [
                "manage.py",
                "shell",
                "-c",
                "from shop.models import Item; [Item.objects.create(name=f'i{n}') for n in range(5)]",
            ],
            root,
        )
    return root
