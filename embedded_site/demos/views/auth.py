"""Middleware & auth group: Django's async auth and session API (5.0 to 6.1) behind real middleware."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, alogin, alogout, get_user_model
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse

from ..catalogue import MIDDLEWARE, demo, evidence, found, stat
from ..seed import DEMO_USERNAME
from ..subhandler import OwnSettingsHandler

CacheSessionStore = import_module("django.contrib.sessions.backends.cache").SessionStore


class CacheSessionMiddleware(SessionMiddleware):
    """startproject's SessionMiddleware with SESSION_ENGINE = "django.contrib.sessions.backends.cache":
    sessions in the local-memory cache, so a demo's logins leave no rows behind."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self.SessionStore = CacheSessionStore


AUTH_MIDDLEWARE = (
    f"{__name__}.CacheSessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
)

AUTH_NOTE = (
    "What runs: a second Django handler built by Django's own load_middleware(is_async=True) over "
    "SessionMiddleware (sessions in the local-memory cache) and AuthenticationMiddleware. "
    "The load driver sends no cookie, so before the view the demo logs user “ada” into a fresh "
    "cache session and puts its cookie on the request, as a browser that had logged in would."
)


async def _as_logged_in(request: HttpRequest) -> None:
    """Give the request the session cookie of a logged-in browser (a new cache session per request)."""
    user = await get_user_model().objects.aget(username=DEMO_USERNAME)
    store = CacheSessionStore()
    await store.aset(SESSION_KEY, user._meta.pk.value_to_string(user))
    await store.aset(BACKEND_SESSION_KEY, "django.contrib.auth.backends.ModelBackend")
    await store.aset(HASH_SESSION_KEY, user.get_session_auth_hash())
    await store.asave(must_create=True)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = store.session_key


async def touch_request_user(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": request.user.username})  # a sync lazy object: evaluating it queries


async def await_auser(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    return JsonResponse({"user": user.username, "authenticated": user.is_authenticated})


async def login_then_logout(request: HttpRequest) -> JsonResponse:
    user = await get_user_model().objects.aget(username=DEMO_USERNAME)
    await alogin(request, user)  # cycles the session key, stores the user, sends user_logged_in
    logged_in = (await request.auser()).is_authenticated
    await alogout(request)  # sends user_logged_out, flushes the session
    return JsonResponse({"logged_in": logged_in, "after_logout": (await request.auser()).is_authenticated})


REQUEST_USER_HANDLER = OwnSettingsHandler(touch_request_user, middleware=AUTH_MIDDLEWARE)
AUSER_HANDLER = OwnSettingsHandler(await_auser, middleware=AUTH_MIDDLEWARE)
LOGIN_HANDLER = OwnSettingsHandler(login_then_logout, middleware=AUTH_MIDDLEWARE)


@demo(
    "auth-request-user",
    group=MIDDLEWARE,
    title="request.user in an async view",
    lesson=(
        "AuthenticationMiddleware sets `request.user` to a SimpleLazyObject whose first use "
        "calls the sync `get_user()`: for a logged-in session that is a database query, and in "
        "an async view Django refuses it with SynchronousOnlyOperation, 500 (Django 5.0 to 6.1). "
        "With no session at all it would work, which is why this surprises people in "
        "production, not on a first try. Use `await request.auser()` (5.0+): the twin. " + AUTH_NOTE
    ),
    expect_status=500,
    twin="auth-auser",
    checks=(
        found("all-failed", "every request fails"),
        evidence("all-failed", "exception", "==", "SynchronousOnlyOperation", "with SynchronousOnlyOperation"),
    ),
)
async def auth_request_user(request: HttpRequest) -> HttpResponse:
    await _as_logged_in(request)
    return await REQUEST_USER_HANDLER.handle(request)


@demo(
    "auth-auser",
    group=MIDDLEWARE,
    title="await request.auser()",
    lesson=(
        "`request.auser()` (Django 5.0+) is the async twin of request.user: the session is read "
        "with the async session API (5.1+) and the user fetched with the async ORM, so the view "
        "gets the logged-in user. It is not free: the user query is a sync_to_async hop, and "
        "the cache session's aget/aset are hops too (BaseCache's async methods are sync_to_async "
        "wrappers). " + AUTH_NOTE
    ),
    twin="auth-request-user",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("thread-hops", "hops_per_request", ">=", 6, "the session and the user query are thread hops"),
    ),
)
async def auth_auser(request: HttpRequest) -> HttpResponse:
    await _as_logged_in(request)
    return await AUSER_HANDLER.handle(request)


@demo(
    "auth-alogin",
    group=MIDDLEWARE,
    title="alogin and alogout",
    lesson=(
        "`alogin()` and `alogout()` (Django 5.0+) log a user in and out from async code: the "
        "session key is cycled and the user stored with the session's async methods, then the "
        "user_logged_in signal is sent with asend, whose sync receiver (update_last_login, "
        "saving the user's last_login) runs in a thread. Every one of those steps is a thread "
        "hop: watch them line up in the request's spans. It writes the user's row, so it runs "
        "for POST. " + AUTH_NOTE.split(" The load driver")[0]
    ),
    method="POST",
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("thread-hops", "hops_per_request", ">=", 8, "logging in and out is a string of thread hops"),
    ),
)
async def auth_alogin(request: HttpRequest) -> HttpResponse:
    return await LOGIN_HANDLER.handle(request)
