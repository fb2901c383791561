"""Counting leads per stage without reading them: the stage tally (models.StageTally, kept by triggers).

`stage_totals(owner)` answers "how many leads, worth how much, in each stage" for every lead (EVERYONE), for
one counsellor (their user id) or for the unassigned leads (UNASSIGNED) in one small GROUP BY over the
tally's rows, whatever the number of leads. Filters the tally does not know (search, source, follow-up
dates ...) must count the leads themselves: `owner_for_filters` says whether the tally can answer.
"""

from contextlib import contextmanager
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Sum

from .models import Lead, StageTally

EVERYONE = "everyone"
UNASSIGNED = 0  # the owner key of leads nobody holds
COMPACT_OVER = 2_000  # fold the delta rows together once a read finds more than this many


def owner_for(user, counsellor: str | None = None):
    """The tally owner that holds exactly the leads `user` may see, narrowed to the lead list's counsellor
    filter value ("none" for unassigned, a user id) when one is given; None when it cannot say."""
    if not user.is_authenticated or not user.is_active:
        return None
    if not user.is_manager:
        return user.pk  # a counsellor sees their own leads, whatever they ask for
    if not counsellor:
        return EVERYONE
    if counsellor == "none":
        return UNASSIGNED
    return int(counsellor) if counsellor.isdigit() else None


def owner_for_filters(user, filters: dict):
    """The tally owner for a page showing `user`'s leads narrowed by `filters` ({name: value} of the filters
    actually applied): only the counsellor filter is one the tally knows."""
    if set(filters) - {"counsellor"}:
        return None
    return owner_for(user, filters.get("counsellor"))


def list_total(user, lead_filter) -> int | None:
    """The exact number of leads a lead list shows when its only filters are the counsellor and the stage
    (the tally knows both); None when other filters apply or the filter form is invalid."""
    if lead_filter.is_bound:
        if lead_filter.applied - {"counsellor", "stage"} or not lead_filter.form.is_valid():
            return None
        counsellor = lead_filter.form.cleaned_data.get("counsellor") if "counsellor" in lead_filter.filters else None
        stages = lead_filter.form.cleaned_data.get("stage")
    else:
        counsellor, stages = None, None
    owner = owner_for(user, counsellor or None)
    if owner is None:
        return None
    totals = stage_totals(owner)
    if stages:
        return sum(totals.get(stage.pk, (0, 0))[0] for stage in stages)
    return sum(leads for leads, _value in totals.values())


def _summed(owner) -> dict[tuple[int, int], tuple[int, Decimal, int]]:
    """{(owner key, stage id): (leads, total deal value, contacted)} summed over the tally's rows for `owner`
    (EVERYONE, a user id or UNASSIGNED), leaving out pairs whose rows sum to nothing; folds the rows together
    when there are many."""
    rows = StageTally.objects.order_by()
    if owner != EVERYONE:
        rows = rows.filter(owner_key=owner)
    sums, deltas = {}, 0
    for owner_key, stage_id, leads, value, contacted, n in rows.values("owner_key", "stage_id").annotate(
        n_leads=Sum("leads"), total=Sum("value"), n_contacted=Sum("contacted"), rows=Count("*")
    ).values_list("owner_key", "stage_id", "n_leads", "total", "n_contacted", "rows"):
        deltas += n
        if leads or value or contacted:
            sums[owner_key, stage_id] = (int(leads), Decimal(value or 0), int(contacted))
    if deltas > COMPACT_OVER:
        tally_compact()
    return sums


def owner_stage_totals(owner) -> dict[tuple[int, int], tuple[int, Decimal]]:
    """{(owner key, stage id): (leads, total deal value)} for `owner` (EVERYONE, a user id or UNASSIGNED);
    pairs whose rows sum to nothing are left out."""
    return {key: (leads, value) for key, (leads, value, _contacted) in _summed(owner).items() if leads or value}


def owner_contacted(owner) -> dict[int, int]:
    """{owner key: leads contacted at least once} for `owner` (EVERYONE, a user id or UNASSIGNED); owners
    with none are left out."""
    contacted = {}
    for (owner_key, _stage_id), (_leads, _value, n) in _summed(owner).items():
        if n:
            contacted[owner_key] = contacted.get(owner_key, 0) + n
    return contacted


def stage_totals(owner) -> dict[int, tuple[int, Decimal]]:
    """{stage id: (leads, total deal value)} for `owner`; stages without leads are left out."""
    totals = {}
    for (_owner_key, stage_id), (leads, value) in owner_stage_totals(owner).items():
        known = totals.get(stage_id, (0, Decimal(0)))
        totals[stage_id] = (known[0] + leads, known[1] + value)
    return totals


def tally_compact() -> int:
    """Fold the tally's delta rows into one row per (owner, stage), dropping those that sum to nothing.
    Safe beside writers: it deletes the rows it read and inserts their sums in one transaction; rows that
    other transactions add meanwhile are left for the next time. Returns the rows now kept (-1: skipped,
    the database was busy)."""
    table = connection.ops.quote_name(StageTally._meta.db_table)
    columns = "owner_key, stage_id, leads, value, contacted"
    with _briefly_waiting():
        return _compact(table, columns)


@contextmanager
def _briefly_waiting():
    """On SQLite, a read that folds the tally must not queue for seconds behind a writer (a bulk action holds
    the database's one write lock while it runs): wait at most 0.1 s for the lock, then leave it for later."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    usual = int(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 100")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {usual}")


def _compact(table, columns) -> int:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH gone AS (DELETE FROM {table} RETURNING {columns}) "  # noqa: S608 (our table name)
                    f"INSERT INTO {table} ({columns}) SELECT owner_key, stage_id, SUM(leads), SUM(value), SUM(contacted) "
                    f"FROM gone GROUP BY 1, 2 HAVING SUM(leads) <> 0 OR SUM(value) <> 0 OR SUM(contacted) <> 0"
                )
            else:  # SQLite: one writer at a time, so read, delete and insert cannot interleave with another
                cursor.execute(
                    f"SELECT owner_key, stage_id, SUM(leads), SUM(value), SUM(contacted) FROM {table} "  # noqa: S608
                    f"GROUP BY 1, 2 HAVING SUM(leads) <> 0 OR SUM(value) <> 0 OR SUM(contacted) <> 0"
                )
                kept = cursor.fetchall()
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)", kept)  # noqa: S608
            return StageTally.objects.count()
    except DatabaseError:  # locked (SQLite) or a serialisation failure: the next read tries again
        return -1


def _counted_from_leads():
    """(owner key, stage id, leads, deal value, contacted) per (owner, stage), counted over the leads themselves."""
    return [
        (owner or UNASSIGNED, stage, n, Decimal(value or 0), contacted)
        for owner, stage, n, value, contacted in Lead.objects.order_by()
        .values("assigned_to_id", "stage_id")
        .annotate(n=Count("*"), v=Sum("value"), c=Count("last_contacted_at"))
        .values_list("assigned_to_id", "stage_id", "n", "v", "c")
    ]


def tally_differences() -> list[dict]:
    """Where the tally disagrees with the leads themselves (a full scan: for checks, not for pages)."""
    expected = {(owner, stage): (n, value, contacted) for owner, stage, n, value, contacted in _counted_from_leads()}
    nothing = (0, Decimal(0), 0)
    actual = _summed(EVERYONE)
    return [
        {"owner": key[0], "stage": key[1], "tally": actual.get(key, nothing), "leads": expected.get(key, nothing)}
        for key in sorted(set(expected) | set(actual))
        if actual.get(key, nothing) != expected.get(key, nothing)
    ]


@transaction.atomic
def tally_rebuild() -> int:
    """Recount the tally from the leads (with the lead table locked against writers on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Lead._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
    StageTally.objects.all().delete()
    StageTally.objects.bulk_create(
        StageTally(owner_key=owner, stage_id=stage, leads=n, value=value, contacted=contacted)
        for owner, stage, n, value, contacted in _counted_from_leads()
    )
    return StageTally.objects.count()
