"""The cache backend: Django's RedisCache (settings.CACHES: the queues' Redis server, another database), with one
difference: a Redis that cannot be reached is a cache miss, not a failed page.

What the cache holds can always be computed again (dashboard numbers, filter suggestions), so while Redis is
down or not started (a management command or a benchmark run without the embedded Redis) a read finds nothing
and a write is dropped, with a warning in the log at most once a minute. Other Redis errors still raise, and so
do incr()/decr(), whose callers count on the stored value.
"""

import logging
import time

from django.core.cache.backends import redis as django_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
WARN_EVERY = 60.0
_last_warning = [0.0]


def _warn(operation: str, error: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= WARN_EVERY:
        _last_warning[0] = now
        log.warning("cache unreachable, %s skipped: %s", operation, error)


def _or(fallback):
    """Run the backend's method; if Redis cannot be reached, return fallback(arguments) instead."""

    def decorate(method):
        def guarded(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                _warn(method.__name__, error)
                return fallback(*args, **kwargs)

        guarded.__name__ = method.__name__
        guarded.__doc__ = method.__doc__
        return guarded

    return decorate


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


class RedisCache(django_redis.RedisCache):
    get = _or(lambda key, default=None, version=None: default)(django_redis.RedisCache.get)
    get_many = _or(lambda *args, **kwargs: {})(django_redis.RedisCache.get_many)
    has_key = _or(_false)(django_redis.RedisCache.has_key)
    add = _or(_false)(django_redis.RedisCache.add)
    set = _or(_nothing)(django_redis.RedisCache.set)
    set_many = _or(lambda data, *args, **kwargs: list(data))(django_redis.RedisCache.set_many)  # all failed
    touch = _or(_false)(django_redis.RedisCache.touch)
    delete = _or(_false)(django_redis.RedisCache.delete)
    delete_many = _or(_nothing)(django_redis.RedisCache.delete_many)
    clear = _or(_false)(django_redis.RedisCache.clear)
