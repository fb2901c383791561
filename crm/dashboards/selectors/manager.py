"""The manager's home page numbers (`/dashboard/`)."""

from datetime import date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate

from crm.accounts.models import User
from crm.accounts.selectors import counsellors
from crm.imports.models import ImportJob
from crm.leads.models import StageKind, StatusChange

from .. import links
from .common import (
    Scope,
    chart,
    contacted_per_owner,
    day_start,
    distribution,
    kind_ids,
    new_counts,
    outcome_counts,
    overdue,
    per_owner,
    percent,
    rollup,
    stage_list,
    today,
)
from .funnel import funnel
from .timing import humanise_seconds, median_first_contact

CHART_DAYS = 30
MEDIAN_DAYS = 7
MAX_CHART_DAYS = 366
TOP_SOURCES = 10

SORT_KEYS = {"name", "assigned", "contacted", "won", "conversion", "overdue", "median"}


def _window(scope: Scope, days: int) -> tuple[date, date]:
    """The filter's range, or the last `days` days; never more than MAX_CHART_DAYS."""
    end = scope.date_to or today()
    start = scope.date_from or end - timedelta(days=days - 1)
    return max(start, end - timedelta(days=MAX_CHART_DAYS - 1)), end


def median_window(scope: Scope) -> tuple[date, date]:
    """The assignments the median first contact covers: the filter's range, or the last 7 days."""
    return _window(scope, MEDIAN_DAYS)


def chart_window(scope: Scope) -> tuple[date, date]:
    """The days the per-day chart covers: the filter's range, or the last 30 days."""
    return _window(scope, CHART_DAYS)


def manager_dashboard(scope: Scope) -> dict:
    stages = stage_list()
    leads = scope.leads()
    rows = rollup(scope)
    contacted_by, overdue_by = contacted_per_owner(scope), per_owner(overdue(leads))
    window, median_days = chart_window(scope), median_window(scope)
    return {
        "totals": _totals(rows, overdue_by, new_counts(leads), scope),
        "stages": distribution(rows, stages, scope),
        "outcomes": outcome_counts(rows, stages, scope),
        "funnel": funnel(scope, stages, rows),
        "counsellors": _counsellor_rows(rows, contacted_by, overdue_by, stages, scope, median_days),
        "stage_columns": [s for s in stages if s["active"]],
        "daily": _daily(scope, stages, window),
        "sources": _sources(scope),
        "imports": _imports(),
        "window": window,
        "median_window": median_days,
    }


def _totals(rows: list[dict], overdue_by: dict, new: dict, scope: Scope) -> dict:
    total = sum(r["n"] for r in rows)
    assigned = sum(r["n"] for r in rows if r["assigned_to_id"] is not None)
    day = today()
    monday = day - timedelta(days=day.weekday())
    return {
        "all": total,
        "all_url": scope.link(),
        "assigned": assigned,
        "assigned_url": scope.link() if scope.counsellor_id else scope.link(assigned_to="any"),
        "unassigned": total - assigned,
        "unassigned_url": None if scope.counsellor_id else scope.link(assigned_to="none"),
        "new_today": new["today"],
        "new_today_url": scope.link(created_from=day, created_to=day),
        "new_week": new["week"],
        "new_week_url": scope.link(created_from=monday, created_to=day),
        "week_start": monday,
        "overdue": sum(overdue_by.values()),
        "overdue_url": scope.link(follow_up="overdue"),
    }


def _counsellor_rows(rows: list[dict], contacted_by: dict, overdue_by: dict, stages: list[dict], scope: Scope,
                     window: tuple[date, date]) -> list[dict]:
    won_ids = set(kind_ids(stages, StageKind.WON))
    people = {u.pk: u for u in counsellors()}
    if scope.counsellor_id:
        people = {pk: u for pk, u in people.items() if pk == scope.counsellor_id}
    holders = {r["assigned_to_id"] for r in rows} - set(people) - {None}
    people.update({u.pk: u for u in User.objects.filter(pk__in=holders)})
    medians = median_first_contact(
        scope.leads().filter(assigned_to_id__in=list(people)),  # the table's rows: lets the index find them
        day_start(window[0]),
        day_start(window[1] + timedelta(days=1)),
    )
    table = {
        pk: {"id": pk, "name": str(u), "active": u.is_active, "assigned": 0, "won": 0, "stages": {},
             "contacted": contacted_by.get(pk, 0), "overdue": overdue_by.get(pk, 0)}
        for pk, u in people.items()
    }
    for r in rows:
        row = table.get(r["assigned_to_id"])
        if row is None:
            continue
        row["assigned"] += r["n"]
        row["stages"][r["stage_id"]] = row["stages"].get(r["stage_id"], 0) + r["n"]
        if r["stage_id"] in won_ids:
            row["won"] += r["n"]
    result = []
    for pk, row in table.items():
        median = medians.get(pk, {})
        row.update(
            conversion=percent(row["won"], row["assigned"]),
            median_seconds=median.get("seconds"),
            median_text=humanise_seconds(median.get("seconds")),
            median_leads=median.get("leads", 0),
            assigned_url=scope.link(assigned_to=pk),
            contacted_url=scope.link(assigned_to=pk, contacted=True),
            won_url=scope.link(assigned_to=pk, stages=sorted(won_ids)) if won_ids else None,
            overdue_url=scope.link(assigned_to=pk, follow_up="overdue"),
            stage_cells=[
                {"count": row["stages"].get(s["id"], 0), "url": scope.link(assigned_to=pk, stages=[s["id"]])}
                for s in stages
                if s["active"]
            ],
        )
        result.append(row)
    return result


def sort_counsellors(rows: list[dict], sort: str) -> list[dict]:
    """Sort the per-counsellor summary rows by a column ("won", "-won", ...); empty values last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key, descending = "name", False
    field = {"median": "median_seconds"}.get(key, key)
    if key == "name":
        return sorted(rows, key=lambda r: r["name"].lower(), reverse=descending)
    present = [r for r in rows if r[field] is not None]
    missing = [r for r in rows if r[field] is None]
    present.sort(key=lambda r: (r[field], r["name"].lower()), reverse=descending)
    return present + sorted(missing, key=lambda r: r["name"].lower())


def _daily(scope: Scope, stages: list[dict], window: tuple[date, date]) -> dict:
    start, end = window
    lo, hi = day_start(start), day_start(end + timedelta(days=1))
    new = dict(
        scope.leads(dated=False)
        .filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("*"))
        .values_list("day", "n")
        .order_by()
    )
    won_ids = kind_ids(stages, StageKind.WON)
    wins_qs = StatusChange.objects.filter(to_stage_id__in=won_ids, at__gte=lo, at__lt=hi)
    if scope.filtered:
        wins_qs = wins_qs.filter(lead_id__in=scope.leads(dated=False).values("id"))
    wins = dict(
        wins_qs.annotate(day=TruncDate("at"))
        .values("day")
        .annotate(n=Count("lead_id", distinct=True))
        .values_list("day", "n")
        .order_by()
    )
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    rows = [
        {"day": d, "new": new.get(d, 0), "wins": wins.get(d, 0), "new_url": scope.link(created_from=d, created_to=d)}
        for d in days
    ]
    return {
        "rows": rows,
        "new_total": sum(r["new"] for r in rows),
        "wins_total": sum(r["wins"] for r in rows),
        "chart": chart(
            "line",
            [d.strftime("%d %b") for d in days],
            [
                {"label": "New leads", "data": [r["new"] for r in rows], "color": "#0d6efd"},
                {"label": "Wins", "data": [r["wins"] for r in rows], "color": "#198754"},
            ],
            [r["new_url"] for r in rows],
        ),
    }


def _sources(scope: Scope) -> dict:
    """Leads per source, biggest first. Grouped by the exact value (an index-only scan of the source index),
    then merged case-insensitively here, as the lead list's source filter matches (a handful of rows)."""
    merged: dict[str, dict] = {}
    for source, n in scope.leads().values("source").annotate(n=Count("*")).values_list("source", "n").order_by():
        row = merged.setdefault(source.lower(), {"source": source, "n": 0})
        row["source"] = min(row["source"], source)
        row["n"] += n
    counts = sorted(merged.values(), key=lambda r: (-r["n"], r["source"].lower()))
    total = sum(r["n"] for r in counts)
    top, rest = counts[:TOP_SOURCES], counts[TOP_SOURCES:]
    rows = [
        {"source": r["source"] or "(none)", "count": r["n"], "percent": percent(r["n"], total),
         "url": scope.link(source=r["source"])}
        for r in top
    ]
    if rest:
        n = sum(r["n"] for r in rest)
        rows.append({"source": f"{len(rest)} other sources", "count": n, "percent": percent(n, total), "url": None})
    return {
        "rows": rows,
        "chart": chart(
            "doughnut",
            [r["source"] for r in rows],
            [{"label": "Leads", "data": [r["count"] for r in rows]}],
            [r["url"] for r in rows],
        ),
    }


def _imports() -> list[dict]:
    jobs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")[:5]
    return [
        {
            "id": job.pk,
            "name": job.original_name or f"Import {job.pk}",
            "status": job.status,
            "status_label": job.get_status_display(),
            "created_at": job.created_at,
            "by": str(job.created_by) if job.created_by else "",
            "rows_total": job.rows_total,
            "created": job.created,
            "updated": job.updated,
            "duplicates": job.duplicates,
            "errors": job.errors,
            "url": links.page_url("imports:detail", job.pk),
            "leads_url": links.lead_list_url(import_job=job.pk),
        }
        for job in jobs
    ]


def stage_chart(stages: list[dict]) -> dict:
    return chart(
        "bar",
        [s["name"] for s in stages],
        [{"label": "Leads", "data": [s["count"] for s in stages], "colors": [s["colour"] for s in stages]}],
        [s["url"] for s in stages],
    )


def funnel_chart(rows: list[dict]) -> dict:
    return chart(
        "bar",
        [r["name"] for r in rows],
        [{"label": "Leads reaching the step", "data": [r["reached"] for r in rows],
          "colors": [r["colour"] for r in rows]}],
        [None for _ in rows],
        horizontal=True,
    )

