"""What the load driver sends for each stream of a run: the demo's URL, its declared method
and the app's token.

The site runs a demo only for the method its catalogue entry declares, and a demo that
writes only for a request carrying the installation's token (see embedded_site.apptoken);
the app's own driver is the one client that always has both.
"""

from __future__ import annotations

from collections.abc import Mapping

from embedded_site.apptoken import HEADER, app_token
from embedded_site.demos.catalogue import Demo

from .config import Stream
from .driver import Target
from .plan import url_for


def app_target(demos: Mapping[str, Demo], base_url: str, stream: Stream) -> Target:
    """The stream as the app's driver sends it (Django must be set up: the token needs SECRET_KEY)."""
    from .project_targets import is_url_target, split

    if is_url_target(stream.demo):  # a URL of the served project
        method, url = split(stream.demo)
        return Target(stream, f"{base_url}{url}", method, ((HEADER.lower(), app_token()),))
    demo = demos[stream.demo]
    return Target(stream, url_for(demos, base_url, stream), demo.method, ((HEADER.lower(), app_token()),))
