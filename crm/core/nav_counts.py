"""Badges in the navigation. Each app registers a function user -> {name: count}.

A user's counts are kept in the shared cache for NAV_SECONDS: every page shows them, and for a counsellor
holding tens of thousands of leads they cost more than the page itself. The services that change what a
badge counts (owners, follow-ups, "seen") call forget() for the users concerned, so their own actions
show at once; what others change shows within NAV_SECONDS.
"""

from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

NAV_SECONDS = 30
_providers: list[Callable] = []


def register(provider: Callable) -> Callable:
    _providers.append(provider)
    return provider


def _key(user_id) -> str:
    return f"nav-counts:{user_id}"


def compute(user) -> dict:
    counts = {}
    for provider in _providers:
        counts.update(provider(user))
    return counts


def for_user(user) -> dict:
    counts = cache.get(_key(user.pk))
    if counts is None:
        counts = compute(user)
        cache.set(_key(user.pk), counts, NAV_SECONDS)
    return counts


def forget(*user_ids) -> None:
    """Drop the kept counts of these users, now and again when the transaction commits (a page computing
    them meanwhile would otherwise keep the old numbers)."""
    keys = [_key(pk) for pk in {getattr(pk, "pk", pk) for pk in user_ids} if pk]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
