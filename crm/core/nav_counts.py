"""Badges in the navigation. Each app registers a function user -> {name: count}."""

from collections.abc import Callable

_providers: list[Callable] = []


def register(provider: Callable) -> Callable:
    _providers.append(provider)
    return provider


def for_user(user) -> dict:
    counts = {}
    for provider in _providers:
        counts.update(provider(user))
    return counts
