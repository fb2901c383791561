"""`python -m benchmarks board [--n 30]`: the pipeline board at 1,000,000 leads, as a manager (every lead) and
as the busiest counsellor.

Scenarios (server time through the Django test client, milliseconds):
- board_page: the page itself (filters, one empty column per stage; columns load themselves).
- column_first_page: one column's first 25 cards with its count and total value (every column, pooled).
- board_full: the page plus every column's first page, one after another: the server time of everything a
  browser asks for to show the whole board (it sends those requests side by side, so the wait it sees is
  shorter). The 80 ms budget is flagged on all three: per request and for the sum.
- load_more: the biggest column's second page, and a page 200 cards deep (keyset on (rank, id)).
- move: a drag to another column between two cards, answered with the fresh card and both columns' counts,
  then the drag back (budget: p95 <= 30 ms). Everything the moves changed is put back afterwards.
"""

import argparse
import time

from django.db import transaction
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

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks board")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=30, help="requests per scenario")
    args = parser.parse_args(argv)
    ensure_dataset(args.leads)
    from crm.leads.models import Lead

    vacuum(Lead)  # counts are index-only scans: dead rows left by other benchmarks would be measured too
    describe_environment("board")

    from crm.leads import board
    from crm.leads.selectors import leads_visible_to

    stages = board.board_stages()
    for role, user in bench_users().items():
        client = bench_client(user)
        leads = leads_visible_to(user)
        page_ms = time_requests(client, reverse("leads:pipeline"), n=args.n)
        report("board_page", role, page_ms, budget_ms=80)
        columns = {s.pk: reverse("leads:pipeline_column", args=[s.pk]) for s in stages}
        for url in columns.values():  # warm-up
            client.get(url, headers=HX)
        pooled, full = [], []
        for page_time in page_ms:
            total = page_time
            for url in columns.values():
                started = time.perf_counter()
                response = client.get(url, headers=HX)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                pooled.append(elapsed)
                total += elapsed
            full.append(total)
        report("column_first_page", role, pooled, budget_ms=80)
        report("board_full", role, full, budget_ms=80)

        biggest = max(stages, key=lambda s: leads.filter(stage=s).count())
        _, cursor = board.column_page(leads, biggest)
        report("load_more", role, time_requests(client, f"{columns[biggest.pk]}?after={cursor}", n=args.n, headers=HX),
               stage=biggest.name)
        deep = leads.filter(stage=biggest).order_by("rank", "pk").values_list("rank", "pk")[199]
        report("load_more_200_deep", role,
               time_requests(client, f"{columns[biggest.pk]}?after={deep[0]}.{deep[1]}", n=args.n, headers=HX),
               stage=biggest.name)
        report("move", role, time_moves(client, user, leads, stages, args.n), budget_ms=30)


def report(scenario, role, samples, **extra):
    stats = percentiles(samples)
    budget = extra.pop("budget_ms", None)
    if budget is not None:
        extra.update(budget_ms=budget, within_budget=stats["p95"] <= budget)
    emit("board", f"{scenario}:{role}", stats["p95"], "ms p95", p50=stats["p50"], mean=stats["mean"], n=stats["n"],
         **extra)


def time_moves(client, user, leads, stages, n):
    """Drag one lead of the user's to another column between its first two cards and back to where it was,
    n times each way; then restore the lead's row and delete the status history the moves wrote."""
    from django.db.models import Sum

    from crm.leads.models import FollowUp, Lead, StatusChange

    plain = [s for s in stages if not s.asks_follow_up and s.kind == "open"]
    home, away = plain[1], plain[2]  # not the first stage, where other benchmarks' imported leads land
    lead = leads.filter(stage=home).order_by("rank", "pk")[1]  # the second card: it has a card above and below
    above, below = (leads.filter(stage=home).order_by("rank", "pk")[i] for i in (0, 2))
    first, second = leads.filter(stage=away).order_by("rank", "pk")[:2]
    snapshot = Lead.objects.filter(pk=lead.pk).values(
        "stage_id", "rank", "version", "stage_changed_at", "updated_at", "value", "next_follow_up_at"
    ).get()
    last_change = StatusChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    open_follow_ups = FollowUp.objects.filter(lead=lead, done_at__isnull=True).count()
    others = Lead.objects.filter(stage__in=[home, away]).exclude(pk=lead.pk)
    ranks_before = others.aggregate(total=Sum("rank"))["total"]
    samples = []
    url = reverse("leads:pipeline_move")
    try:
        for _ in range(n):
            for stage, neighbours in ((away, (first, second)), (home, (above, below))):
                version = Lead.objects.values_list("version", flat=True).get(pk=lead.pk)
                data = {"lead": lead.uuid, "stage": stage.pk, "version": version,
                        "before": neighbours[0].uuid, "after": neighbours[1].uuid}
                started = time.perf_counter()
                response = client.post(url, data, headers=JSON)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (response.status_code, response.content[:300])
    finally:
        with transaction.atomic():
            StatusChange.objects.filter(lead=lead, pk__gt=last_change).delete()
            Lead.objects.filter(pk=lead.pk).update(**snapshot)
        assert FollowUp.objects.filter(lead=lead, done_at__isnull=True).count() == open_follow_ups
        # The moves land between cards with room between them, so no other card was shifted.
        assert others.aggregate(total=Sum("rank"))["total"] == ranks_before, "other cards' ranks changed"
    return samples
