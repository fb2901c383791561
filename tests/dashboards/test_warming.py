"""The warm-up job: the managers' default pages find their numbers computed (in each manager's time zone), one chain
of runs keeps them fresh, and `manage.py dashboards_warm` runs it once."""

import json
import re
from datetime import UTC, datetime, timedelta

import django_rq
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from crm.core import nav_counts
from crm.dashboards import selectors
from crm.dashboards.jobs import warm_dashboards_job
from crm.dashboards.warming import (
    CHAIN_KEY,
    WANTED_KEY,
    WARM_JOB_ID,
    dashboards_warm,
    ensure_warmer,
    warm_zones,
)
from crm.leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LEADS_TABLE = Lead._meta.db_table
PAGES = ["dashboards:manager", "dashboards:funnel", "dashboards:companies"]


@pytest.fixture
def queue(rq_queues):
    """The default queue (enqueueing at once, not at the test's commit) with no warm-up chain: no chain key, no
    scheduled warm-up runs (before and after)."""
    queue = django_rq.get_queue("default", commit_mode="auto")

    def forget_the_chain():
        queue.connection.delete(CHAIN_KEY, WANTED_KEY)
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            if job_id.startswith(WARM_JOB_ID):
                registry.remove(job_id, delete_job=True)

    forget_the_chain()
    yield queue
    forget_the_chain()


def warm_jobs(queue) -> tuple[list[str], list[str]]:
    """(queued, scheduled) warm-up job ids."""
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    return ([i for i in queue.job_ids if i.startswith(WARM_JOB_ID)], [i for i in scheduled if i.startswith(WARM_JOB_ID)])


def lead_aggregates(queries, user) -> list[str]:
    """The aggregate queries over leads, but for the navigation's badges (the user's own leads, on every page)."""
    with CaptureQueriesContext(connection) as navigation:
        nav_counts.compute(user)
    badges = {q["sql"] for q in navigation.captured_queries}
    return [
        q["sql"] for q in queries
        if LEADS_TABLE in q["sql"] and re.search(r"COUNT\(|SUM\(|GROUP BY", q["sql"]) and q["sql"] not in badges
    ]


def test_warmed_pages_are_served_without_counting_leads(client_for, data):
    result = dashboards_warm()
    assert data.M.time_zone in result["zones"] and result["keys"] == result["stored"] == 3 * len(result["zones"])
    client = client_for(data.M)
    for name in PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(name))
        assert response.status_code == 200
        assert "as of" in response.text, name
        assert lead_aggregates(queries.captured_queries, data.M) == [], name
    html = client.get(reverse("dashboards:manager")).text
    assert re.search(r'data-number="all">\s*(?:<a [^>]*>)?\s*9\s*<', html)


def test_warmed_numbers_are_those_a_page_computes(client_for, data, settings):
    dashboards_warm()
    warmed = {name: client_for(data.M).get(reverse(name)).context["data"] for name in PAGES}
    settings.DASHBOARD_CACHE_SECONDS = 0
    computed = {name: client_for(data.M).get(reverse(name)).context["data"] for name in PAGES}
    assert warmed == computed


def test_filtered_pages_are_computed_on_demand_then_cached(client_for, data):
    dashboards_warm()
    client = client_for(data.M)
    url = reverse("dashboards:manager") + f"?counsellor={data.A.pk}"
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url)
    assert "as of" not in first.text and lead_aggregates(queries.captured_queries, data.M)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(url)
    assert "as of" in second.text and not lead_aggregates(queries.captured_queries, data.M)


def test_numbers_are_warmed_in_each_managers_time_zone(client_for, data):
    admin = UserFactory(role="admin", email="ana@example.com", time_zone="America/Sao_Paulo")
    UserFactory(role="manager", email="gone@example.com", time_zone="Asia/Tokyo", is_active=False)
    UserFactory(role="sales", email="far@example.com", time_zone="Pacific/Auckland")
    assert warm_zones() == sorted({data.M.time_zone, "America/Sao_Paulo", settings.TIME_ZONE})
    dashboards_warm()
    scope = selectors.Scope(user=data.M)
    for zone in warm_zones():
        with timezone.override(zone):
            assert all(cache.get(scope.cache_key(name)) is not None for name in ("manager", "funnel", "companies"))
    for zone in ("Asia/Tokyo", "Pacific/Auckland"):
        with timezone.override(zone):
            assert cache.get(scope.cache_key("manager")) is None
    # Each manager's page reads the numbers of their own day: Ana's "today" is not the noon zone's.
    html = client_for(admin).get(reverse("dashboards:manager")).text
    assert "as of" in html
    with timezone.override("America/Sao_Paulo"):
        assert client_for(admin).get(reverse("dashboards:manager")).context["data"] == selectors.manager_dashboard(scope)


def test_warmed_numbers_last_at_most_the_cache_lifetime(data):
    dashboards_warm()
    scope = selectors.Scope(user=data.M)
    key = cache.make_and_validate_key(scope.cache_key("manager"))
    ttl = cache._cache.get_client(key).ttl(key)
    assert 0 < ttl <= 60
    assert timezone.now() - cache.get(scope.cache_key("manager"))["at"] < timedelta(seconds=5)


def test_a_manager_page_starts_one_chain_that_reschedules_itself_once(client_for, data, queue, run_jobs):
    client_for(data.A).get(reverse("dashboards:funnel"))
    assert warm_jobs(queue) == ([], [])  # a counsellor's page starts nothing
    client_for(data.M).get(reverse("dashboards:manager"))
    client_for(data.M).get(reverse("dashboards:funnel"))
    assert ensure_warmer() is False  # its first run is pending already
    queued, scheduled = warm_jobs(queue)
    assert len(queued) == 1 and scheduled == []
    run_jobs()  # runs now: warms, and schedules the next run
    scope = selectors.Scope(user=data.M)
    with timezone.override(data.M.time_zone):
        assert cache.get(scope.cache_key("manager")) is not None
    queued, scheduled = warm_jobs(queue)
    assert queued == [] and len(scheduled) == 1
    due = ScheduledJobRegistry(queue=queue).get_scheduled_time(scheduled[0]).replace(tzinfo=UTC)
    assert timedelta(seconds=40) < due - datetime.now(UTC) <= timedelta(seconds=45)
    # A second run outside the chain (a late duplicate, a requeued job) neither computes nor schedules.
    cache.clear()
    queue.enqueue(warm_dashboards_job, job_id=f"{WARM_JOB_ID}-stray")
    run_jobs()
    assert warm_jobs(queue) == ([], scheduled)
    with timezone.override(data.M.time_zone):
        assert cache.get(scope.cache_key("manager")) is None
    assert queue.fetch_job(f"{WARM_JOB_ID}-stray").return_value().startswith("not this chain's run")
    assert ensure_warmer() is False  # the scheduled run is the chain


def test_the_chain_stops_when_no_manager_has_looked_for_a_while_and_a_visit_restarts_it(client_for, data, queue,
                                                                                      run_jobs):
    client_for(data.M).get(reverse("dashboards:manager"))
    assert 0 < queue.connection.ttl(WANTED_KEY) <= 15 * 60
    queue.connection.delete(WANTED_KEY)  # fifteen quiet minutes later
    run_jobs()
    assert warm_jobs(queue) == ([], [])  # it warmed nothing more and scheduled nothing
    client_for(data.M).get(reverse("dashboards:manager"))
    queued, _ = warm_jobs(queue)
    assert len(queued) == 1


def test_a_dead_chain_restarts_from_a_manager_page(client_for, data, queue):
    assert ensure_warmer() is True
    (first,), _ = warm_jobs(queue)
    queue.empty()  # the job is lost (Redis flushed, queue emptied)
    client_for(data.M).get(reverse("dashboards:manager"))
    (second,), _ = warm_jobs(queue)
    assert second != first
    assert queue.connection.get(CHAIN_KEY).decode() == second


def test_with_the_cache_off_nothing_is_warmed_or_scheduled(client_for, data, queue, run_jobs, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert dashboards_warm()["keys"] == 0
    client_for(data.M).get(reverse("dashboards:manager"))
    assert ensure_warmer() is False
    assert warm_jobs(queue) == ([], [])
    queue.enqueue(warm_dashboards_job, job_id=f"{WARM_JOB_ID}-off")
    run_jobs()
    assert warm_jobs(queue) == ([], [])
    settings.DASHBOARD_CACHE_SECONDS = 60
    with timezone.override(data.M.time_zone):
        assert cache.get(selectors.Scope(user=data.M).cache_key("manager")) is None


def test_nothing_is_warmed_without_an_active_manager(db):
    LeadFactory()
    assert dashboards_warm() == {"zones": [], "keys": 0, "stored": 0, "seconds": 0.0}


def test_the_command_warms_once(client_for, data, capsys):
    call_command("dashboards_warm")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["keys"] == result["stored"] == 3 * len(result["zones"]) and data.M.time_zone in result["zones"]
    assert "as of" in client_for(data.M).get(reverse("dashboards:funnel")).text
