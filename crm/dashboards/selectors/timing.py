"""Median time from assignment to first contact, per counsellor.

First contact = the earliest Activity, or StatusChange that moved the lead (from_stage set: the row a
lead's creation writes does not count), by anyone, strictly after the lead's assigned_at. Leads not yet
contacted are left out of the median (and counted separately).
"""

import statistics
from datetime import datetime

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Least

from crm.leads.models import Activity, Lead, StatusChange


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median of an interval or a number."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def _first_contact_delays(leads: QuerySet[Lead], start: datetime, end: datetime) -> QuerySet[Lead]:
    first_activity = (
        Activity.objects.filter(lead_id=OuterRef("pk"), at__gt=OuterRef("assigned_at")).order_by("at").values("at")[:1]
    )
    first_move = (
        StatusChange.objects.filter(lead_id=OuterRef("pk"), at__gt=OuterRef("assigned_at"), from_stage__isnull=False)
        .order_by("at")
        .values("at")[:1]
    )
    a, s = Subquery(first_activity), Subquery(first_move)
    return (
        leads.filter(assigned_to__isnull=False, assigned_at__gte=start, assigned_at__lt=end)
        .annotate(first_contact=Least(Coalesce(a, s), Coalesce(s, a)))
        .filter(first_contact__isnull=False)
        .annotate(delay=ExpressionWrapper(F("first_contact") - F("assigned_at"), output_field=DurationField()))
    )


def median_first_contact(leads: QuerySet[Lead], start: datetime, end: datetime) -> dict[int, dict]:
    """{counsellor id: {"seconds": median seconds, "leads": how many contacted leads it is the median of}}
    for leads assigned in [start, end)."""
    delays = _first_contact_delays(leads, start, end)
    if connection.vendor == "postgresql":
        rows = delays.values("assigned_to_id").annotate(median=Median("delay"), n=Count("pk"))
        return {
            r["assigned_to_id"]: {"seconds": r["median"].total_seconds(), "leads": r["n"]}
            for r in rows.order_by()
        }
    # Elsewhere (SQLite has no percentile function) the delays are fetched and the median taken here.
    per_user: dict[int, list[float]] = {}
    for user_id, delay in delays.values_list("assigned_to_id", "delay").order_by():
        per_user.setdefault(user_id, []).append(delay.total_seconds())
    return {uid: {"seconds": statistics.median(values), "leads": len(values)} for uid, values in per_user.items()}


def humanise_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
