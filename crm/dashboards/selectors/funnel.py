"""The funnel: how many leads reached each step of the pipeline, from the status history.

Definition (shown on the pages too): the funnel's steps are the active open and won stages in pipeline
order (lost stages are exits, not steps). A lead *reached* a step when its history (StatusChange) shows it
entering that step or a later one, or when it is at that step or a later one now. So a lead that went
New → Interested → Not interested counts as having reached every step up to Interested.
"""

from django.db import connection
from django.db.models import QuerySet

from crm.leads.models import Lead, StageKind, StatusChange

from .common import Scope, percent


def ladder(stages: list[dict]) -> list[dict]:
    return [s for s in stages if s["active"] and s["kind"] in (StageKind.OPEN, StageKind.WON)]


def furthest_step_counts(leads: QuerySet[Lead], steps: list[dict], *, restrict: bool) -> dict[int, int]:
    """{step index: number of leads whose furthest step is that one}, in one SQL statement.

    Each lead's furthest step is the highest step among its history's to_stage and its current stage;
    `restrict` limits the count to `leads` (otherwise every lead is counted, without the IN subquery).
    """
    if not steps:
        return {}
    quote = connection.ops.quote_name
    # Stage ids and step numbers are integers from the database, so they are written into the SQL as such.
    case = " ".join(f"WHEN {int(s['id'])} THEN {index}" for index, s in enumerate(steps))
    ids = ", ".join(str(int(s["id"])) for s in steps)
    params: list = []
    history_where = lead_where = ""
    if restrict:
        lead_sql, lead_params = leads.values("id").order_by().query.sql_with_params()
        history_where = f" AND h.{quote('lead_id')} IN ({lead_sql})"
        lead_where = f" AND l.{quote('id')} IN ({lead_sql})"
        params = [*lead_params, *lead_params]
    history, lead = quote(StatusChange._meta.db_table), quote(Lead._meta.db_table)
    sql = f"""
        SELECT step, COUNT(*) FROM (
            SELECT lead_id, MAX(step) AS step FROM (
                SELECT h.{quote('lead_id')} AS lead_id, CASE h.{quote('to_stage_id')} {case} END AS step
                FROM {history} h WHERE h.{quote('to_stage_id')} IN ({ids}){history_where}
                UNION ALL
                SELECT l.{quote('id')} AS lead_id, CASE l.{quote('stage_id')} {case} END AS step
                FROM {lead} l WHERE l.{quote('stage_id')} IN ({ids}){lead_where}
            ) touched GROUP BY lead_id
        ) furthest GROUP BY step
    """  # noqa: S608 - only quoted table/column names and integers are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(step): int(n) for step, n in cursor.fetchall()}


def funnel(scope: Scope, stages: list[dict], *, leads: QuerySet[Lead] | None = None) -> list[dict]:
    """One row per step: reached, conversion from the previous step and drop-off, both in %."""
    steps = ladder(stages)
    leads = scope.leads() if leads is None else leads
    counts = furthest_step_counts(leads, steps, restrict=scope.filtered)
    rows, reached_later = [], 0
    for index in range(len(steps) - 1, -1, -1):
        reached_later += counts.get(index, 0)
        rows.append({**steps[index], "reached": reached_later})
    rows.reverse()
    previous = None
    for row in rows:
        row["of_first"] = percent(row["reached"], rows[0]["reached"])
        if previous is None:
            row["conversion"] = row["drop_off"] = None
        else:
            row["conversion"] = percent(row["reached"], previous)
            row["drop_off"] = None if row["conversion"] is None else round(100 - row["conversion"], 1)
        previous = row["reached"]
    return rows
