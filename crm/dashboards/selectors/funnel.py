"""The funnel: how many leads reached each step of the pipeline, from the status history.

Definition (shown on the pages too): the funnel's steps are the active open and won stages in pipeline
order (lost stages are exits, not steps). A lead *reached* a step when its history (StatusChange) shows it
in that step or a later one (entering or leaving it), or when it is at that step or a later one now. So a
lead that went New → Interested → Not interested counts as having reached every step up to Interested.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

from crm.leads.models import Lead, StatusChange
from crm.leads.selectors import FUNNEL_KINDS

from .common import Scope, percent
from .timing import WORK_MEM


def ladder(stages: list[dict]) -> list[dict]:
    return [s for s in stages if s["active"] and s["kind"] in FUNNEL_KINDS]


def furthest_step_counts(leads: QuerySet[Lead], rows: list[dict], steps: list[dict]) -> dict[int, int]:
    """{step index: number of leads whose furthest step is that one}.

    Most leads are furthest where they are now, which `rows` (the per-stage counts) already say. Only the
    leads whose history went further than their current stage (moved back, or left for a lost stage) need
    the history, and one statement finds them: the moves (from_stage set) whose from or to step is above
    the lead's current step. The rows a lead's creation writes are not read: a lead that moved on has a
    move leaving that stage, and one that did not is still there.
    """
    if not steps:
        return {}
    step_of = {s["id"]: index for index, s in enumerate(steps)}
    counts: dict[int, int] = {}
    for row in rows:
        if row["stage_id"] in step_of:
            counts[step_of[row["stage_id"]]] = counts.get(step_of[row["stage_id"]], 0) + row["n"]
    for current, furthest, n in _went_further(leads, steps):
        if current in step_of:
            counts[step_of[current]] -= n
        counts[furthest] = counts.get(furthest, 0) + n
    return counts


def _went_further(leads: QuerySet[Lead], steps: list[dict]) -> list[tuple[int, int, int]]:
    """(current stage id, furthest step, leads) for the leads whose history reached above their current step."""
    q = connection.ops.quote_name

    def step(column):  # the step of a stage id column, -1 for a stage outside the funnel (or NULL)
        whens = " ".join(f"WHEN {int(s['id'])} THEN {index}" for index, s in enumerate(steps))
        return f"(CASE {column} {whens} ELSE -1 END)"

    moved_from, moved_to, now = step(f"h.{q('from_stage_id')}"), step(f"h.{q('to_stage_id')}"), step(f"l.{q('stage_id')}")
    highest = f"(CASE WHEN {moved_from} > {moved_to} THEN {moved_from} ELSE {moved_to} END)"
    try:  # the scope's leads as a derived table, which PostgreSQL folds into the join (its WHERE on `l`)
        lead_sql, params = leads.values("id", "stage_id").order_by().query.sql_with_params()
    except EmptyResultSet:  # e.g. Lead.objects.none()
        return []
    history = q(StatusChange._meta.db_table)
    # Stage ids and step numbers are integers from the database, written into the SQL as such.
    sql = f"""
        SELECT current, furthest, COUNT(*) FROM (
            SELECT h.{q('lead_id')} AS lead_id, MIN(l.{q('stage_id')}) AS current, MAX({highest}) AS furthest
            FROM {history} h JOIN ({lead_sql}) l ON l.{q('id')} = h.{q('lead_id')}
            WHERE h.{q('from_stage_id')} IS NOT NULL AND {highest} > {now}
            GROUP BY h.{q('lead_id')}
        ) further GROUP BY current, furthest
    """  # noqa: S608 - only quoted names, integers and Django's own SQL are interpolated; values are parameters
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")  # the hash join of history and leads stays in memory
            cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        cursor.execute(sql, params)
        return [(int(current), int(furthest), int(n)) for current, furthest, n in cursor.fetchall()]


def funnel(scope: Scope, stages: list[dict], rows: list[dict]) -> list[dict]:
    """One row per step: reached, conversion from the previous step and drop-off, both in %.
    `rows`: the scope's leads counted per (counsellor, stage) (common.rollup)."""
    steps = ladder(stages)
    counts = furthest_step_counts(scope.leads(), rows, steps)
    rows, reached_later = [], 0
    for index in range(len(steps) - 1, -1, -1):
        reached_later += counts.get(index, 0)
        rows.append({**steps[index], "reached": reached_later, "url": scope.link(reached=steps[index]["id"])})
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
