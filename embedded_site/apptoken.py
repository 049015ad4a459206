"""The token that marks a request as the explorer's own: a demo that writes runs only with it.

Any web page the person opens can make their browser send requests to the lab on
127.0.0.1, but it cannot read the lab's data directory nor any of the lab's responses,
so it cannot know this value.  The lab's own load driver sends it in a header; the index
page (read only by a same-origin page) carries it in its POST forms.

It is an HMAC of a fixed label under the installation's SECRET_KEY: one value per
installation, nothing more to store, and it changes whenever the secret key does.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

HEADER = "X-Explorer-Token"
FORM_FIELD = "explorer_token"
_META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
_SALT = "embedded_site.apptoken"


def app_token(secret_key: str | None = None) -> str:
    """The token of the installation with this secret key (by default, Django's SECRET_KEY)."""
    return salted_hmac(_SALT, "the explorer's own load driver", secret=secret_key, algorithm="sha256").hexdigest()


def carries_app_token(request: HttpRequest) -> bool:
    """Whether the request presents the token, in the header or (from the index page) a form field."""
    given = request.META.get(_META_KEY)
    if given is None and request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        given = request.POST.get(FORM_FIELD)
    return given is not None and constant_time_compare(given, app_token())
