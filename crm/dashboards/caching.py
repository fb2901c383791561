"""Dashboard numbers are cached for at most 60 seconds, in the shared cache (Redis, see settings.CACHES), so every
web process reads the numbers any of them (or the warm-up job, warming.py) computed. A page showing cached
numbers says when they were computed ("as of HH:MM")."""

import math
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

MAX_SECONDS = 60


def cache_seconds() -> int:
    """DASHBOARD_CACHE_SECONDS (optional setting, capped at 60; 0 turns the cache off)."""
    return max(0, min(MAX_SECONDS, getattr(settings, "DASHBOARD_CACHE_SECONDS", MAX_SECONDS)))


def store(key: str, data: dict, at: datetime | None = None) -> None:
    """Cache numbers computed at `at` (default: now) until they are cache_seconds() old."""
    now = timezone.now()
    at = at or now
    seconds = cache_seconds() - math.ceil((now - at).total_seconds())
    if seconds > 0:
        cache.set(key, {"data": data, "at": at}, seconds)


def cached(key: str, compute: Callable[[], dict]) -> tuple[dict, object]:
    """(numbers, computed_at): computed_at is the time of the cached computation, or None when just computed."""
    seconds = cache_seconds()
    if seconds:
        hit = cache.get(key)
        if hit is not None:
            return hit["data"], hit["at"]
    data = compute()
    if seconds:
        store(key, data)
    return data, None
