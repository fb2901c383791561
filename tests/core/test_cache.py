"""The shared cache: Redis, on another database than the queues, and a miss (never an error) when Redis is down."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

from crm.core.cache import RedisCache
from crm.settings import BASE_DIR, redis_db, redis_url_with_db


@pytest.fixture
def fresh_cache(real_redis):
    cache.clear()
    yield
    cache.clear()


def test_the_cache_is_redis_on_the_queues_server_in_another_database():
    queue_server, queue_db = redis_db(settings.RQ_QUEUES["default"]["URL"])
    cache_server, cache_db = redis_db(settings.CACHES["default"]["LOCATION"])
    assert cache_server == queue_server
    assert cache_db != queue_db
    assert settings.CACHES["default"]["KEY_PREFIX"]


def test_the_cache_database_is_the_queues_plus_one_unless_named():
    assert redis_url_with_db("unix:///srv/var/redis/redis.sock?db=0", 1) == "unix:///srv/var/redis/redis.sock?db=1"
    assert redis_url_with_db("redis://:secret@cache.example.com:6380/15", 0) == "redis://:secret@cache.example.com:6380/0"
    assert redis_url_with_db("redis://redis.example.com", 1) == "redis://redis.example.com/1"
    assert redis_db("redis://redis.example.com") == ("redis.example.com:6379", 0)
    assert redis_db("redis://h:6379/2?db=7") == ("h:6379", 7)  # redis-py reads ?db= first
    if not os.environ.get("REDIS_CACHE_URL"):
        queue_db = redis_db(settings.REDIS_URL)[1]
        assert redis_db(settings.REDIS_CACHE_URL)[1] == (queue_db + 1) % 16


def _settings_in_a_new_process(**env) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.REDIS_CACHE_URL)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", **env},
    )


def test_redis_cache_url_overrides_and_may_not_name_the_queues_database():
    named = _settings_in_a_new_process(REDIS_URL="redis://127.0.0.1:6379/3", REDIS_CACHE_URL="redis://127.0.0.1:6379/9")
    assert named.stdout.strip() == "redis://127.0.0.1:6379/9"
    same = _settings_in_a_new_process(REDIS_URL="redis://127.0.0.1:6379/3", REDIS_CACHE_URL="redis://127.0.0.1/3")
    assert same.returncode != 0 and "REDIS_CACHE_URL must name another Redis database" in same.stderr


def test_another_process_reads_what_this_one_cached(fresh_cache):
    cache.set("shared-check", {"numbers": [1, 2, 3]}, 60)
    code = "import django; django.setup(); from django.core.cache import cache; print(cache.get('shared-check'))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "VAR_DIR": str(settings.VAR_DIR)},
    )
    assert result.stdout.strip() == "{'numbers': [1, 2, 3]}", result.stderr


def test_clearing_the_cache_leaves_the_queued_jobs(fresh_cache, rq_queues):
    queue = next(queue for queue in rq_queues if queue.name == "default")
    job = queue.enqueue("crm.dashboards.jobs.warm_dashboards_job", job_id="stays-after-cache-clear")
    cache.set("goes-away", 1, 60)
    cache.clear()
    assert cache.get("goes-away") is None
    assert job.id in queue.job_ids
    assert queue.fetch_job(job.id) is not None


def test_an_unreachable_redis_is_a_cache_miss_not_an_error(tmp_path):
    down = RedisCache(f"unix://{tmp_path}/no-redis-here.sock?db=1", {"OPTIONS": {"socket_connect_timeout": 1}})
    down.set("key", "value", 60)
    assert down.get("key") is None
    assert down.get("key", "fallback") == "fallback"
    assert down.get_or_set("key", lambda: "computed", 60) == "computed"
    assert down.get_many(["a", "b"]) == {}
    assert down.add("key", "value") is False
    assert down.delete("key") is False
    assert down.set_many({"a": 1, "b": 2}) == ["a", "b"]
    down.clear()
