"""Middleware & auth group: Django's async auth and session API (5.0 to 6.1) behind real middleware."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, alogin, alogout, get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
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
        "Use `await request.auser()` (5.0+): the twin. " + AUTH_NOTE
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


async def read_and_write_the_session(request: HttpRequest) -> JsonResponse:
    visits = await request.session.aget("visits", 0)  # Django 5.1+
    await request.session.aset("visits", visits + 1)
    keys = [key async for key in _session_keys(request)]
    return JsonResponse({"visits_before": visits, "keys": keys})


async def _session_keys(request: HttpRequest):
    for key in await request.session.akeys():
        yield key


SESSION_HANDLER = OwnSettingsHandler(read_and_write_the_session, middleware=AUTH_MIDDLEWARE[:1])


@demo(
    "session-aget-aset",
    group=MIDDLEWARE,
    title="The session's async API: aget, aset, akeys",
    lesson=(
        "Since Django 5.1 a session has async methods (aget, aset, akeys, aflush, acycle_key...). "
        "The first access loads the session: on the cache backend `await cache.aget(...)`, which "
        "every built-in cache backend implements as sync_to_async, so a thread hop; later ones "
        "read the loaded dict. SessionMiddleware's process_request and process_response (which "
        "saves the change) are a hop each through MiddlewareMixin. Seven hops per request: two "
        "to save the browser's session beforehand (a key check, then the add), the two "
        "middleware hooks, the load, and the signals' two. The async API does not make a "
        "session cheaper; what it buys is that the view never touches the session store from "
        "the loop. "
        "What runs: a second Django handler built by load_middleware"
        "(is_async=True) over SessionMiddleware with sessions in the local-memory cache; the demo "
        "first saves a session with one visit and puts its cookie on the request, as a returning "
        "browser's would be."
    ),
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("thread-hops", "hops_per_request", "==", 7, "seven thread hops per request"),
    ),
)
async def session_aget_aset(request: HttpRequest) -> HttpResponse:
    store = CacheSessionStore()
    await store.aset("visits", 1)
    await store.asave(must_create=True)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = store.session_key
    return await SESSION_HANDLER.handle(request)


class SyncOnlyBackend(BaseBackend):
    """A backend written before Django 5.2: only the sync authenticate(); BaseBackend's
    aauthenticate() runs it through sync_to_async."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = get_user_model()._default_manager.filter(username=username).first()
        return user if user is not None and user.check_password(password) else None


CREDENTIALS = {"username": DEMO_USERNAME, "password": "not-ada's-password"}
BACKEND_NOTE = (
    " The demo user's password is unusable, so both answer no user, but Django hashes the "
    "given password anyway to hide that. The lab's hasher is Django's PBKDF2 with 1,500 "
    "iterations instead of 6.1's 1,500,000, so the run shows the hops, not the hashing: "
    "with the default, ten of these requests took 13 to 19 s on the lab's 2-core machine."
)


@demo(
    "auth-backend-native",
    group=MIDDLEWARE,
    title="ModelBackend.aauthenticate: the native async path (5.2)",
    lesson=(
        "Django 5.2 gave the auth backends native async methods: ModelBackend.aauthenticate "
        "awaits `aget_by_natural_key()` (the query, a hop on the request's thread) and then "
        "`user.acheck_password()`, which hands the hasher to sync_to_async(thread_sensitive="
        "False): a second hop, to the thread pool. Native async here means two hops where the "
        "fallback has one: async all the way down it is not." + BACKEND_NOTE
    ),
    twin="auth-backend-fallback",
    checks=(
        evidence("thread-hops", "hops_per_request", "==", 4, "2 hops to authenticate + the signals' 2"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def auth_backend_native(request: HttpRequest) -> JsonResponse:
    user = await ModelBackend().aauthenticate(request, **CREDENTIALS)
    return JsonResponse({"user": user.username if user else None})


@demo(
    "auth-backend-fallback",
    group=MIDDLEWARE,
    title="A sync-only backend's aauthenticate: the sync_to_async fallback",
    lesson=(
        "A backend with only a sync authenticate() still works from async code: "
        "BaseBackend.aauthenticate is `sync_to_async(self.authenticate)`, so the whole lookup "
        "and password check run in one hop on the request's thread. It is the one hop fewer "
        "than the native path; what it costs is that the whole function, however slow, "
        "holds that thread." + BACKEND_NOTE
    ),
    twin="auth-backend-native",
    checks=(
        evidence("thread-hops", "hops_per_request", "==", 3, "1 hop to authenticate + the signals' 2"),
        stat("errors", "==", 0, "no request fails"),
    ),
)
async def auth_backend_fallback(request: HttpRequest) -> JsonResponse:
    user = await SyncOnlyBackend().aauthenticate(request, **CREDENTIALS)
    return JsonResponse({"user": user.username if user else None})
