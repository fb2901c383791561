"""Keeps the managers' default pages warm: the manager home, the funnel report and the companies report for
every lead, unfiltered, are recomputed by a periodic job and stored where `cached()` looks for them, so no
manager waits for their SQL aggregates (1-2 s at a million leads). Filtered pages are computed on demand.

The numbers depend on the time zone (today, this week) and the cache key names it: they are computed in every
zone an active manager or admin has chosen, and in settings.TIME_ZONE (where anyone else's page falls back).

One chain of jobs runs on the default queue: CHAIN_KEY (in the queues' Redis) names the job that continues it.
A job continues the chain only while it is that job; it then names and schedules its successor `every()`
seconds ahead before it computes, so a failed run or a killed worker leaves the next run in place. A second
chain (two pages starting one at once, a late job) stops at its next run. The manager pages start a chain
when none is pending (first visit, Redis flushed, job lost, or the chain stopped after IDLE_SECONDS without
a manager page); the worker's scheduler runs the scheduled runs
(`rqworker --with-scheduler`). `manage.py dashboards_warm` warms once, without the chain.
"""

import functools
import logging
import time
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from crm.accounts.models import Role, User

from . import selectors
from .caching import cache_seconds, store

log = logging.getLogger(__name__)

WARM_JOB_ID = "dashboards-warm"
CHAIN_KEY = "crm:dashboards:warm-chain"
CHAIN_TTL = 3600  # a chain whose job has been pending this long may be replaced (the old job then stops)
WANTED_KEY = "crm:dashboards:warm-wanted"  # set by every manager page view; the chain stops once it expires
IDLE_SECONDS = 15 * 60  # no manager page for this long (nights, weekends): the chain stops until the next visit
JOB_OPTIONS = {"job_timeout": 600, "result_ttl": 120, "failure_ttl": 3600}

# Name `successor` as the chain's next job if the chain's current job is `current` (or there is none).
_CLAIM = """
local named = redis.call('GET', KEYS[1])
if named == false or named == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def every() -> timedelta:
    """Three quarters of the numbers' cache lifetime (45 s of 60): new numbers are stored before the last expire."""
    return timedelta(seconds=cache_seconds() * 3 / 4)


def _managers():
    return User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.ADMIN])


def warm_zones() -> list[str]:
    """settings.TIME_ZONE and every valid zone an active manager or admin has chosen."""
    zones = {settings.TIME_ZONE}
    for name in _managers().values_list("time_zone", flat=True).distinct():
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue  # the time-zone middleware shows such a user settings.TIME_ZONE
        zones.add(name)
    return sorted(zones)


def dashboards_warm() -> dict:
    """Compute the managers' default numbers now and cache them (for at most cache_seconds())."""
    manager = _managers().order_by("pk").first()
    if not cache_seconds() or manager is None:  # no cache, or nobody who sees these pages
        return {"zones": [], "keys": 0, "stored": 0, "seconds": 0.0}
    started = time.monotonic()
    scope = selectors.Scope(user=manager)  # a manager's numbers count every lead, whoever the manager
    companies = selectors.companies_report(manager)  # the same in every zone
    companies_at = timezone.now()
    zones = warm_zones()
    keys = []
    for zone in zones:
        with timezone.override(zone):
            store(scope.cache_key("manager"), selectors.manager_dashboard(scope))
            store(scope.cache_key("funnel"), selectors.funnel_report(scope))
            store(scope.cache_key("companies"), companies, at=companies_at)
            keys += [scope.cache_key(name) for name in ("manager", "funnel", "companies")]
    seconds = round(time.monotonic() - started, 3)
    return {"zones": zones, "keys": len(keys), "stored": len(cache.get_many(keys)), "seconds": seconds}


def _queue():
    import django_rq

    return django_rq.get_queue("default", commit_mode="auto")


@functools.cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def _queues_redis():
    """The queues' Redis through one connection pool per process: the pages check the chain on every visit, and
    a new connection costs three times the check (about 2 ms against 0.6)."""
    return _redis(settings.RQ_QUEUES["default"]["URL"])


def _claim(connection, current: str | None, successor: str) -> bool:
    return bool(connection.eval(_CLAIM, 1, CHAIN_KEY, current or "", successor, CHAIN_TTL))


def _new_job_id() -> str:
    return f"{WARM_JOB_ID}-{uuid.uuid4().hex[:12]}"


def _pending(connection, job_id: str) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status in {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}


def ensure_warmer() -> bool:
    """Start a chain (a run now) unless the chain's job is pending. True when this call started one.
    Never raises for an unreachable Redis."""
    from redis.exceptions import RedisError

    from .jobs import warm_dashboards_job

    if not cache_seconds():
        return False
    try:
        connection = _queues_redis()
        connection.set(WANTED_KEY, 1, ex=IDLE_SECONDS)
        named = connection.get(CHAIN_KEY)
        named = named.decode() if named else None
        if named and _pending(connection, named):
            return False
        job_id = _new_job_id()
        if not _claim(connection, named, job_id):
            return False  # someone else just started it
        _queue().enqueue(warm_dashboards_job, job_id=job_id, **JOB_OPTIONS)
        return True
    except (RedisError, OSError) as error:
        log.warning("dashboard warm-up could not reach Redis: %s", error)
        return False


def continue_chain(job_id: str | None) -> bool:
    """For the running job `job_id`: schedule the next run if this job is the chain's (False: another chain
    took over, the cache is off, or no manager has opened a dashboard for IDLE_SECONDS, and this one stops;
    the next manager page starts a new chain)."""
    from .jobs import warm_dashboards_job

    if not cache_seconds():
        return False
    queue = _queue()
    if not queue.connection.exists(WANTED_KEY):
        return False
    successor = _new_job_id()
    if not _claim(queue.connection, job_id, successor):
        return False
    queue.enqueue_at(datetime.now(UTC) + every(), warm_dashboards_job, job_id=successor, **JOB_OPTIONS)
    return True
