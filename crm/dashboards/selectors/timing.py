"""Median time from assignment to first contact, per counsellor.

First contact = the earliest Activity, or StatusChange that moved the lead (from_stage set: the row a
lead's creation writes does not count), by anyone, strictly after the lead's assigned_at. Leads not yet
contacted are left out of the median (and counted separately).
"""

import statistics
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import DurationField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Least

from crm.leads.models import Activity, Lead, StatusChange

# Enough memory for the hash joins and aggregates over a million leads not to spill to disk.
WORK_MEM = "64MB"


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
    for the `leads` assigned in [start, end)."""
    if connection.vendor == "postgresql":
        return _median_postgresql(leads, start, end)
    # Elsewhere (SQLite has no percentile function) the delays are fetched and the median taken here.
    per_user: dict[int, list[float]] = {}
    delays = _first_contact_delays(leads, start, end)
    for user_id, delay in delays.values_list("assigned_to_id", "delay").order_by():
        per_user.setdefault(user_id, []).append(delay.total_seconds())
    return {uid: {"seconds": statistics.median(values), "leads": len(values)} for uid, values in per_user.items()}


def _median_postgresql(leads: QuerySet[Lead], start: datetime, end: datetime) -> dict[int, dict]:
    """One statement: the leads assigned in the window joined (by hash, not one probe per lead) with the
    activities and moves since the window opened (a contact after the assignment cannot be older), the
    earliest per lead, then percentile_cont per counsellor."""
    assigned = (
        leads.filter(assigned_to__isnull=False, assigned_at__gte=start, assigned_at__lt=end)
        .values("id", "assigned_to_id", "assigned_at")
        .order_by()
    )
    try:
        assigned_sql, assigned_params = assigned.query.sql_with_params()
    except EmptyResultSet:  # e.g. no counsellor at all
        return {}
    activity, history = Activity._meta.db_table, StatusChange._meta.db_table
    sql = f"""
        SELECT owner, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), COUNT(*) FROM (
            SELECT l.assigned_to_id AS owner, EXTRACT(EPOCH FROM MIN(e.at) - l.assigned_at) AS seconds
            FROM ({assigned_sql}) l JOIN (
                SELECT lead_id, at FROM {activity} WHERE at > %s
                UNION ALL
                SELECT lead_id, at FROM {history} WHERE at > %s AND from_stage_id IS NOT NULL
            ) e ON e.lead_id = l.id AND e.at > l.assigned_at
            GROUP BY l.id, l.assigned_to_id, l.assigned_at
        ) firsts GROUP BY owner
    """  # noqa: S608 - only table names and Django's own SQL are interpolated; values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, [*assigned_params, start, start])
        return {owner: {"seconds": float(median), "leads": n} for owner, median, n in cursor.fetchall()}


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
