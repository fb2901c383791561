"""`python -m benchmarks lists`: server time of the lead list at 1,000,000 leads, next to the Django admin
changelist for Lead (same filters and search, the admin's own way) measured the same way in the same run.

Scenarios (a manager signed in, unless named): first page, stage + counsellor filter, search by phone (typed
the way people write it), search by a name fragment, sort by last contacted, page 2,000, and a counsellor's
own first page. Each: p50/p95 of --n requests (Django test client, server time) after warm-up. The peer line
gives the admin's p95; ratio = admin p95 / our p95 (how many times faster the list is).

Read-only: nothing is written, except a temporary admin user when the data set has none (deleted at the end).
`--explain` prints the SQL of each of our scenarios with EXPLAIN ANALYZE (PostgreSQL) to stderr.
"""

import argparse
import sys

from django.db import connection
from django.test.utils import CaptureQueriesContext

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

PEER = "django-admin changelist"
BUDGET_MS = 60


def _admin_user():
    from crm.accounts.models import User

    admin = User.objects.filter(role="admin", is_active=True).order_by("pk").first()
    if admin is not None:
        return admin, False
    return User.objects.create_user("bench-admin@example.com", full_name="Bench Admin", role="admin",
                                    is_superuser=True), True


def _samples():
    """Real values from the data: a stage with many leads, a counsellor, a phone, a name fragment."""
    from crm.leads.models import Lead, Stage

    users = bench_users()
    stage = Stage.objects.filter(is_active=True, name="Interested").first() or Stage.objects.filter(is_active=True).first()
    middle = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() // 2
    lead = Lead.objects.filter(phone__startswith="+91", pk__gte=middle).exclude(name="").order_by("pk").first()
    national = lead.phone[3:] if lead.phone.startswith("+91") else lead.phone.lstrip("+")
    typed_phone = f"0{national[:5]} {national[5:]}"  # "098765 43210": how counsellors write it
    fragment = lead.name.split()[0][1:5].lower()  # "nand" of "Nandana": part of a first name
    return users, stage, lead, typed_phone, fragment


def scenarios(users, stage, lead, typed_phone, fragment):
    """(scenario, our URL, user, admin URL) for each measured case."""
    manager, sales = users["manager"], users["sales"]
    admin_base = "/admin/leads/lead/"
    # list_display of LeadAdmin: name, phone, stage, assigned_to, source, city, next_follow_up_at,
    # last_contacted_at (8th column: o=-8 sorts it descending), updated_at.
    return [
        ("first_page", "/leads/", manager, admin_base),
        ("stage_counsellor_filter", f"/leads/?stage={stage.pk}&counsellor={sales.pk}", manager,
         f"{admin_base}?stage__id__exact={stage.pk}&assigned_to__id__exact={sales.pk}"),
        # The admin cannot normalise a number: it gets the stored E.164 form (its best case) to find the lead.
        ("search_phone", f"/leads/?q={typed_phone.replace(' ', '+')}", manager, f"{admin_base}?q={lead.phone[1:]}"),
        ("search_name_fragment", f"/leads/?q={fragment}", manager, f"{admin_base}?q={fragment}"),
        ("sort_last_contacted", "/leads/?sort=-last_contacted", manager, f"{admin_base}?o=-8"),
        ("page_2000", "/leads/?page=2000", manager, f"{admin_base}?p=2000"),
        ("counsellor_first_page", "/leads/", sales, None),
    ]


def _describe_table():
    """Dead rows and autovacuum: they decide whether index-only scans stay index-only."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_live_tup, n_dead_tup, last_vacuum, last_autovacuum FROM pg_stat_user_tables "
                       "WHERE relname = 'leads_lead'")
        live, dead, vacuumed, autovacuumed = cursor.fetchone()
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    last = max((t for t in (vacuumed, autovacuumed) if t), default=None)
    emit("lists", "table_state", dead, "dead rows", live_rows=live, autovacuum=autovacuum,
         last_vacuum=last.isoformat() if last else None)


def _explain(client, url):
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    print(f"\n### {url}", file=sys.stderr)
    for query in queries.captured_queries:
        sql = query["sql"]
        if "leads_lead" not in sql or sql.startswith("SELECT reltuples"):
            continue
        print(f"-- {query['time']} s\n{sql}", file=sys.stderr)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("\n".join(row[0] for row in cursor.fetchall()), file=sys.stderr)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks lists")
    parser.add_argument("--leads", type=int, default=1_000_000, help="data set size to ensure first")
    parser.add_argument("--n", type=int, default=30, help="requests per scenario (at least 30 for the report)")
    parser.add_argument("--no-peer", action="store_true", help="skip the Django admin changelist")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE our queries to stderr")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM ANALYZE the lead table first (what autovacuum does in production; a server "
                             "with autovacuum off keeps the dead rows other benchmarks leave, and index-only "
                             "scans then visit the table)")
    args = parser.parse_args(argv)

    ensure_dataset(args.leads)
    if args.vacuum:
        from crm.leads.models import Lead

        vacuum(Lead)
    describe_environment("lists")
    _describe_table()
    admin, created_admin = _admin_user()
    try:
        users, stage, lead, typed_phone, fragment = _samples()
        clients = {}
        admin_client = None if args.no_peer else bench_client(admin)
        wanted = set(args.only.split(",")) if args.only else None
        misses = []
        for name, url, user, admin_url in scenarios(users, stage, lead, typed_phone, fragment):
            if wanted and name not in wanted:
                continue
            client = clients.setdefault(user.pk, bench_client(user))
            if args.explain:
                _explain(client, url)
            ours = percentiles(time_requests(client, url, n=args.n))
            extra = {"p50": ours["p50"], "p95": ours["p95"], "n": ours["n"], "url": url, "budget_ms": BUDGET_MS}
            if admin_client is not None and admin_url:
                peer = percentiles(time_requests(admin_client, admin_url, n=args.n))
                extra.update(peer=PEER, peer_value=peer["p95"], peer_p50=peer["p50"], peer_url=admin_url,
                             ratio=round(peer["p95"] / ours["p95"], 2))
            emit("lists", name, ours["p95"], "ms p95", **extra)
            if ours["p95"] > BUDGET_MS:
                misses.append(name)
        emit("lists", "budget", len(misses), "scenarios over budget", over=",".join(misses), budget_ms=BUDGET_MS)
    finally:
        if created_admin:
            admin.delete()
    return 0
