"""Cache group: the async cache API on the local-memory backend."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

from ..catalogue import CACHE, Param, demo, evidence, stat


@demo(
    "cache-aget-aset",
    group=CACHE,
    title="cache.aset / cache.aget on the local-memory cache",
    lesson=(
        "Django's cache API has async methods (aget, aset, aget_many... since 4.0), but no "
        "built-in backend implements them natively: BaseCache defines each as "
        "`sync_to_async(self.get)` and so on (Django 4.0 to 6.1). On the local-memory backend, "
        "where a get is a dictionary lookup under a lock, every await is a thread hop that "
        "costs far more than the lookup: N keys set and read are 2 × N hops per request."
    ),
    params=(Param("keys", 5, 1, 200, "keys set and read back per request", " keys"),),
    checks=(
        stat("errors", "==", 0, "no request fails"),
        evidence("thread-hops", "hops_per_request", ">=", 12, "2 × 5 hops for the cache, plus the signals' 2"),
    ),
)
async def cache_aget_aset(request: HttpRequest, keys: int) -> JsonResponse:
    found = 0
    for number in range(keys):
        await cache.aset(f"explorer-demo-{number}", number, timeout=60)
        found += await cache.aget(f"explorer-demo-{number}") == number
    return JsonResponse({"set": keys, "read_back": found})
