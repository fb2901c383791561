"""Shared pieces of the benchmarks: JSON-line output, percentiles, server-time measurement, the data set."""

import json
import os
import platform
import statistics
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

DEFAULT_LEADS = 1_000_000


def emit(benchmark: str, scenario: str, value, unit: str, **extra) -> dict:
    """Print one result as a JSON line: benchmark, scenario, value, unit (+ peer, peer_value, ratio, ...)."""
    record = {"benchmark": benchmark, "scenario": scenario, "value": _round(value), "unit": unit}
    record.update({key: _round(val) for key, val in extra.items()})
    print(json.dumps(record), flush=True)
    return record


def _round(value):
    return round(value, 3) if isinstance(value, float) else value


def percentiles(samples) -> dict:
    ordered = sorted(samples)
    if not ordered:
        return {"p50": None, "p95": None, "n": 0}

    def pick(q):
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    return {"p50": pick(0.50), "p95": pick(0.95), "mean": statistics.fmean(ordered), "n": len(ordered)}


def time_requests(client: Client, url: str, n: int = 30, warmup: int = 3, headers=None) -> list[float]:
    """Server time in milliseconds of n GET requests through the Django test client (after warm-up)."""
    headers = headers or {}
    for _ in range(warmup):
        _get(client, url, headers)
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        _get(client, url, headers)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _get(client, url, headers):
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def time_call(fn, n: int = 1) -> list[float]:
    """Wall time in milliseconds of n calls of fn()."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


class HttpsClient(Client):
    """Requests over https, as behind the production proxy: with DEBUG off plain http is redirected."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


def bench_client(user) -> Client:
    client = HttpsClient(SERVER_NAME="localhost")
    client.force_login(user)
    return client


def bench_users() -> dict:
    """The manager and the busiest counsellor of the demo data."""
    from django.db.models import Count

    from crm.accounts.models import User

    manager = User.objects.filter(role="manager", is_active=True).order_by("pk").first()
    sales = (
        User.objects.filter(role="sales", is_active=True)
        .annotate(n=Count("assigned_leads"))
        .order_by("-n", "pk")
        .first()
    )
    return {"manager": manager, "sales": sales}


def lead_count() -> int:
    from crm.leads.models import Lead

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Lead._meta.db_table])
            row = cursor.fetchone()
            if row and row[0] and row[0] > 100_000:
                return Lead.objects.count()
    return Lead.objects.count()


def ensure_dataset(leads: int = DEFAULT_LEADS) -> int:
    """Make sure the benchmark database is migrated and holds at least `leads` leads (seed_demo tops up)."""
    call_command("migrate", verbosity=0, interactive=False)
    have = lead_count()
    if have < leads:
        print(f"# filling the benchmark database to {leads:,} leads (has {have:,})", file=sys.stderr, flush=True)
        call_command("seed_demo", leads=leads, stdout=sys.stderr)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    return lead_count()


def vacuum(*models) -> None:
    """VACUUM ANALYZE the models' tables (PostgreSQL): other benchmarks change rows and put them back, leaving
    dead rows and a stale visibility map that index-only scans would pay for. VACUUM changes no data: it gives
    the steady state autovacuum keeps in production."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


def describe_environment(benchmark: str) -> None:
    emit(
        benchmark,
        "environment",
        lead_count(),
        "leads",
        database=connection.vendor,
        python=platform.python_version(),
        cpus=os.cpu_count(),
        load=os.getloadavg()[0],
        debug=settings.DEBUG,
        **cpu_probe(),
        **server_settings(),
    )


def cpu_probe() -> dict:
    """How fast this machine is right now, so that runs on different days can be compared: a fixed
    pure-Python loop and a fixed server-side query, best of three, in ms. The development VM's CPU has
    varied up to 3x between sessions; every benchmark number moves with it."""

    def best_ms(work) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return round(min(times) * 1000, 1)

    count_to_a_million = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT sum(i) FROM n"
    with connection.cursor() as cursor:
        return {
            "cpu_python_ms": best_ms(lambda: sum(range(10_000_000))),
            "cpu_sql_ms": best_ms(lambda: (cursor.execute(count_to_a_million), cursor.fetchone())),
        }


SERVER_SETTINGS = ("shared_buffers", "max_wal_size", "autovacuum", "work_mem")


def server_settings() -> dict:
    """The PostgreSQL settings that move these numbers most (reported beside them)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [list(SERVER_SETTINGS)])
        return {f"pg_{name}": value for name, value in cursor.fetchall()}
