"""`python -m benchmarks assign`: bulk assignment at scale (PostgreSQL, 1,000,000 leads; budget 1.5 s each).

Scenarios, on the same N (50,000) unassigned leads, newest first, run by the manager through the services
the pages use (crm.assignment.services: one transaction each, leads moved and history written in one statement):
- assign: leads_assign of the N selected leads to one counsellor (then undone, timed as assign_undo);
- distribute: leads_distribute of the N leads across 20 counsellors (balanced by open leads);
- undo: batch_undo of that distribution (every lead back to unassigned, assigned_at restored).
Each is repeated (--repeat, default 3); the value is the median, with every sample alongside.

Peer, in the same run: seed 002's random assign (one query and one save() per lead, random.choice of a
counsellor, each save in its own transaction) on --peer-leads (5,000) leads, compared per lead with
distribute (ratio = peer time per lead / ours).

The data set is put back afterwards: the leads' owner, assigned_at, version and updated_at are restored
from a copy taken first, and the benchmark's Assignment rows and batches are deleted.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass

from django.db import connection, transaction

from crm.accounts.models import User
from crm.assignment.models import Assignment, AssignmentBatch
from crm.assignment.services import batch_undo, leads_assign, leads_distribute
from crm.assignment.services._sql import history_written
from crm.leads.demo import ensure_counsellors
from crm.leads.models import Lead

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

NAME = "assign"
BACKUP = "bench_assign_backup"
BUDGET_MS = 1500


@dataclass
class Timing:
    wall: float  # ms
    db: float | None  # the database backend's CPU ms (None when it cannot be read)
    app: float  # this process's CPU ms


def backend_cpu_seconds() -> float | None:
    """CPU time the PostgreSQL backend serving us has used (readable when the database runs on this machine)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn) -> tuple[object, Timing]:
    """(result, Timing): the wall time, and the database's and this process's CPU time (robust to a busy
    machine)."""
    db_before, app_before = backend_cpu_seconds(), time.process_time()
    started = time.perf_counter()
    result = fn()
    wall = (time.perf_counter() - started) * 1000
    db_after = backend_cpu_seconds()
    db = None if db_before is None or db_after is None else (db_after - db_before) * 1000
    return result, Timing(wall, db, (time.process_time() - app_before) * 1000)


def pick_leads(n: int) -> list[int]:
    ids = list(
        Lead.objects.filter(assigned_to__isnull=True).order_by("-created_at", "-id").values_list("pk", flat=True)[:n]
    )
    if len(ids) < n:
        raise SystemExit(f"the data set has only {len(ids):,} unassigned leads; {n:,} are needed")
    return ids


def backup(ids) -> None:
    """Copy the leads' owner fields (and the last batch id before the run) into a table of their own."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BACKUP}")
        cursor.execute(
            f"CREATE TABLE {BACKUP} AS SELECT id, assigned_to_id, assigned_at, version, updated_at, "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 0) FROM {AssignmentBatch._meta.db_table}) AS batches_before "
            f"FROM {Lead._meta.db_table} WHERE id = ANY(%s)",
            [list(ids)],
        )


def restore_interrupted_run() -> None:
    """A run killed before its restore (SIGKILL, a lost terminal) leaves its leads assigned and its backup
    table behind; a later run would take that state for the data set. Put it back first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [BACKUP])
        if not cursor.fetchone()[0]:
            return
        cursor.execute(f"SELECT MAX(batches_before) FROM {BACKUP}")  # noqa: S608
        before = cursor.fetchone()[0] or 0
    print("# restoring the leads of an interrupted assign benchmark run", file=sys.stderr, flush=True)
    restore(list(AssignmentBatch.objects.filter(pk__gt=before).values_list("pk", flat=True)))


def restore(batch_ids) -> None:
    """Put the leads back exactly as they were and remove the benchmark's history rows."""
    # The benchmark's history rows are removed below: the database must not record the restore itself.
    with transaction.atomic(), history_written(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Lead._meta.db_table} AS l SET assigned_to_id = b.assigned_to_id, assigned_at = b.assigned_at, "  # noqa: S608
            f"version = b.version, updated_at = b.updated_at FROM {BACKUP} AS b WHERE l.id = b.id"
        )
        Assignment.objects.filter(batch_id__in=batch_ids).delete()
        AssignmentBatch.objects.filter(undo_of_id__in=batch_ids).update(undo_of=None)
        AssignmentBatch.objects.filter(pk__in=batch_ids).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BACKUP}")
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")


def seed_random_assign(ids, counsellors) -> None:
    """Seed 002's random assign, translated to this schema: a query and a save() per lead."""
    rng = random.Random(2)
    for pk in ids:
        lead = Lead.objects.get(pk=pk)
        lead.assigned_to = rng.choice(counsellors)  # the peer's own method
        lead.save()


def preview_filter() -> str | None:
    """A lead-list filter matching as many unassigned leads as one bulk action takes (at most MAX_BULK)."""
    from django.http import QueryDict

    from crm.assignment.selectors import MAX_BULK
    from crm.leads.filters import LeadFilter
    from crm.leads.listing import capped_count

    for query in ("counsellor=none&city=Kochi", "counsellor=none&city=Kochi&source=Website",
                  "counsellor=none&city=Pune&source=Website&interest=MBA"):
        n, exact = capped_count(LeadFilter(QueryDict(query), queryset=Lead.objects.all()).qs, MAX_BULK)
        if n and exact:
            return query
    return None


def pages(manager) -> None:
    """Server time of the unassigned queue and of a bulk preview of every unassigned lead in one city."""
    client = bench_client(manager)
    stats = percentiles(time_requests(client, "/leads/unassigned/", n=20))
    emit(NAME, "unassigned_page", stats["p95"], "ms", p50=stats["p50"], n=stats["n"])
    query = preview_filter()
    if query is None:
        emit(NAME, "preview_distribute", None, "ms", error="no filter selects 1 to 100,000 unassigned leads")
        return
    data = {"action": "distribute", "select_all": "1", "filter_query": query}
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.post("/leads/bulk/preview/", data)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"bulk preview answered {response.status_code}")
    html = response.content.decode()
    count = int(re.search(r"Distribute ([\d,]+) leads? evenly", html).group(1).replace(",", ""))
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    emit(NAME, "preview_distribute", statistics.median(samples), "ms", leads=count,
         samples_ms=[round(s, 1) for s in samples], token_bytes=len(token))


def summary(samples) -> dict:
    return {"samples_ms": [round(s, 1) for s in samples], "min_ms": min(samples), "budget_ms": BUDGET_MS,
            "within_budget": statistics.median(samples) <= BUDGET_MS}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks assign")
    parser.add_argument("--leads", type=int, default=50_000, help="leads per bulk action")
    parser.add_argument("--counsellors", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-leads", type=int, default=5_000)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="do not VACUUM between the actions (a server with autovacuum off keeps every dead row)")
    args = parser.parse_args(argv)

    ensure_dataset()
    restore_interrupted_run()
    describe_environment(NAME)
    manager = bench_users()["manager"]
    counsellors = ensure_counsellors(args.counsellors)
    if User.objects.filter(pk__in=[c.pk for c in counsellors], is_active=True, is_available=True).count() != len(counsellors):
        raise SystemExit("some demo counsellors are inactive or on leave; the benchmark needs all of them")
    pages(manager)
    ids = pick_leads(args.leads)
    backup(ids)
    batch_ids = []
    results = {"assign": [], "assign_undo": [], "distribute": [], "undo": []}

    def note(name, timing):
        results[name].append(timing)

    def timed_action(fn):
        """VACUUM first (outside the timing): each action leaves 50,000 dead lead versions and history rows
        (the restore deletes them), which autovacuum clears within a minute in production (its naptime)."""
        if not args.no_vacuum:
            vacuum(Lead, Assignment, AssignmentBatch)
        return timed(fn)

    try:
        for _ in range(args.repeat):
            batch, timing = timed_action(lambda: leads_assign(lead_ids=ids, to_user=counsellors[0], by=manager))
            batch_ids.append(batch.pk)
            note("assign", timing)
            assert batch.count == len(ids), batch.summary
            undo, timing = timed_action(lambda b=batch: batch_undo(batch=b, by=manager))
            note("assign_undo", timing)
            assert undo["changed"] == len(ids), undo

            batch, timing = timed_action(lambda: leads_distribute(lead_ids=ids, by=manager, counsellors=counsellors))
            batch_ids.append(batch.pk)
            note("distribute", timing)
            counts = [row["count"] for row in batch.summary["per_user"]]
            assert batch.count == len(ids) and max(counts) - min(counts) <= 1, batch.summary
            undo, timing = timed_action(lambda b=batch: batch_undo(batch=b, by=manager))
            note("undo", timing)
            assert undo["changed"] == len(ids), undo
        batch_ids += list(AssignmentBatch.objects.filter(undo_of_id__in=batch_ids).values_list("pk", flat=True))
        assert not Lead.objects.filter(pk__in=ids[:1000], assigned_to__isnull=False).exists()

        peer = {}
        if not args.no_peer:
            peer_ids = ids[: args.peer_leads]
            _, peer_timing = timed(lambda: seed_random_assign(peer_ids, counsellors))
            ours_per_lead = statistics.median(t.wall for t in results["distribute"]) / len(ids)
            peer_per_lead = peer_timing.wall / len(peer_ids)
            peer = {"peer": f"seed 002 random assign (query + save() per lead, {len(peer_ids):,} leads)",
                    "peer_value": peer_timing.wall, "peer_ms_per_lead": peer_per_lead, "ms_per_lead": ours_per_lead,
                    "ratio": peer_per_lead / ours_per_lead, "peer_db_cpu_ms": peer_timing.db,
                    "peer_app_cpu_ms": peer_timing.app}
    finally:
        restore(batch_ids)

    for scenario, timings in results.items():
        extra = peer if scenario == "distribute" else {}
        samples = [t.wall for t in timings]
        db = [t.db for t in timings if t.db is not None]
        emit(NAME, scenario, statistics.median(samples), "ms", leads=len(ids), **summary(samples),
             db_cpu_ms=statistics.median(db) if db else None, app_cpu_ms=statistics.median(t.app for t in timings),
             **extra)
    if peer:
        emit(NAME, "peer_random_assign", peer["peer_value"], "ms", leads=args.peer_leads,
             ms_per_lead=peer["peer_ms_per_lead"], ratio=peer["ratio"], db_cpu_ms=peer["peer_db_cpu_ms"],
             app_cpu_ms=peer["peer_app_cpu_ms"])
