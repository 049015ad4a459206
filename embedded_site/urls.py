from django.urls import path

from .demos.catalogue import all_demos
from .demos.endpoints import make_endpoint
from .demos.views import site
from .playground import urlpattern as playground_pattern

urlpatterns = [
    path("", site.index, name="index"),
    path("internal/slow/", site.slow_upstream, name="slow-upstream"),
    playground_pattern(),  # the snippets the app mounts; no route here adds one
    *(path(d.path.lstrip("/"), make_endpoint(d), name=d.id) for d in all_demos()),
]

# The error pages name what a demo raised and its fix (DEBUG stays False: no debug page).
handler404 = "embedded_site.demos.views.site.not_found"
handler500 = "embedded_site.demos.views.site.server_error"
