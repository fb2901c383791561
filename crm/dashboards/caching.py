"""Dashboard numbers are cached for at most 60 seconds (Django's cache; the default LocMemCache is enough).
A page showing cached numbers says when they were computed ("as of HH:MM")."""

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

MAX_SECONDS = 60


def cache_seconds() -> int:
    """DASHBOARD_CACHE_SECONDS (optional setting, capped at 60; 0 turns the cache off)."""
    return max(0, min(MAX_SECONDS, getattr(settings, "DASHBOARD_CACHE_SECONDS", MAX_SECONDS)))


def cached(key: str, compute: Callable[[], dict]) -> tuple[dict, object]:
    """(numbers, computed_at): computed_at is the time of the cached computation, or None when just computed."""
    seconds = cache_seconds()
    if seconds:
        hit = cache.get(key)
        if hit is not None:
            return hit["data"], hit["at"]
    data = compute()
    if seconds:
        cache.set(key, {"data": data, "at": timezone.now()}, seconds)
    return data, None
