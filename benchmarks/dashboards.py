"""`python -m benchmarks dashboards`: server time of the manager home, the counsellor home and the funnel report.

Each page is measured twice: uncached (DASHBOARD_CACHE_SECONDS=0: every request computes every number) and
cached (the numbers computed once, then served from the cache for up to 60 s). In production the managers'
default pages are always served cached: the warm-up job (crm.dashboards.warming) recomputes them every 45 s,
and its run time is reported too ("warm-up run"). The
counsellor is the demo data's busiest one. Read-only: the data set is not changed.
"""

import argparse
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse

from .common import (
    bench_client,
    bench_users,
    describe_environment,
    emit,
    ensure_dataset,
    percentiles,
    time_requests,
    vacuum,
)

BUDGET_MS = 100


def scenarios(users):
    from crm.dashboards.selectors.common import today

    end = today()
    filtered = f"?date_from={end - timedelta(days=29)}&date_to={end}&counsellor={users['sales'].pk}"
    return [
        ("manager home", users["manager"], reverse("dashboards:manager")),
        ("manager home, one counsellor, last 30 days", users["manager"], reverse("dashboards:manager") + filtered),
        ("counsellor home", users["sales"], reverse("dashboards:counsellor")),
        ("funnel report (manager)", users["manager"], reverse("dashboards:funnel")),
        ("funnel report (counsellor)", users["sales"], reverse("dashboards:funnel")),
    ]


def measure(name, client, url, n, cached):
    cache.clear()
    with override_settings(DASHBOARD_CACHE_SECONDS=60 if cached else 0):
        samples = time_requests(client, url, n=n, warmup=1 if cached else 2)
    stats = percentiles(samples)
    scenario = f"{name}, {'cached' if cached else 'uncached'}"
    emit("dashboards", f"{scenario} p50", stats["p50"], "ms", n=stats["n"])
    emit("dashboards", f"{scenario} p95", stats["p95"], "ms", n=stats["n"], budget=BUDGET_MS,
         within_budget=stats["p95"] <= BUDGET_MS)
    return stats


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks dashboards")
    parser.add_argument("--leads", type=int, default=1_000_000, help="fill the database to this many leads first")
    parser.add_argument("--n", type=int, default=30, help="requests per scenario")
    parser.add_argument("--only", default="", help="run only the scenarios whose name contains this")
    parser.add_argument("--uncached-only", action="store_true")
    args = parser.parse_args(argv)
    ensure_dataset(args.leads)
    from crm.assignment.models import Assignment
    from crm.leads.models import Activity, FollowUp, Lead, StatusChange

    vacuum(Lead, StatusChange, Activity, FollowUp, Assignment)
    describe_environment("dashboards")
    users = bench_users()
    for name, user, url in scenarios(users):
        if args.only and args.only not in name:
            continue
        client = bench_client(user)
        measure(name, client, url, args.n, cached=False)
        if not args.uncached_only:
            measure(name, client, url, args.n, cached=True)
    emit("dashboards", "queries per uncached manager home", _query_count(users["manager"]), "queries")
    if not args.only:
        warm_up()
    return 0


def warm_up():
    """One run of the warm-up job's work (every default page, in every manager's time zone): it must stay
    well inside its 45 s period."""
    from crm.dashboards.warming import dashboards_warm

    cache.clear()
    with override_settings(DASHBOARD_CACHE_SECONDS=60):
        result = dashboards_warm()
    emit("dashboards", "warm-up run", round(result["seconds"] * 1000, 1), "ms", zones=len(result["zones"]),
         keys=result["keys"], stored=result["stored"])


def _query_count(user) -> int:
    from django.test.utils import CaptureQueriesContext

    client = bench_client(user)
    cache.clear()
    with override_settings(DASHBOARD_CACHE_SECONDS=0), CaptureQueriesContext(connection) as queries:
        client.get(reverse("dashboards:manager"))
    return len(queries.captured_queries)
