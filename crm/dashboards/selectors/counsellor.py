"""The counsellor's home page: my numbers (cached) and my work lists (always live)."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from crm.core import nav_counts
from crm.leads.models import FollowUp, Lead, StatusChange
from crm.leads.owners import owned_by, owned_since

from .common import (
    Scope,
    contacted_per_owner,
    day_start,
    distribution,
    outcome_counts,
    rollup,
    stage_list,
    today,
)

WORK_LIST_SIZE = 15
RECENT_DAYS_WHEN_NEVER_SEEN = 7
NEW_COUNT_CAP = 1_000  # "1,000+ new": the exact number above it tells a counsellor nothing more


def my_scope(user) -> Scope:
    """My own leads: a counsellor's visible leads, or, for a manager opening this page, those assigned to them."""
    return Scope(user=user, counsellor_id=user.pk if user.is_manager else None)


def my_leads(user) -> QuerySet[Lead]:
    return owned_by(Lead.objects.order_by(), user)


def counsellor_numbers(scope: Scope) -> dict:
    """My numbers (`scope`: my own leads, my_scope): per stage and contacted from the stage tally, and the
    follow-ups overdue and due today from the navigation's badge counts, which are the same leads."""
    stages = stage_list()
    rows = rollup(scope)
    total = sum(r["n"] for r in rows)
    reached = sum(contacted_per_owner(scope).values())
    badges = nav_counts.for_user(scope.user)
    overdue = badges.get("follow_ups_overdue", 0)
    return {
        "stages": distribution(rows, stages, scope),
        "outcomes": outcome_counts(rows, stages, scope),
        "contacted": reached,
        "not_contacted": total - reached,
        "not_contacted_url": scope.link(contacted=False),
        "overdue": overdue,
        "overdue_url": scope.link(follow_up="overdue"),
        "due_today": badges.get("follow_ups_due", 0) - overdue,
        "due_today_url": scope.link(follow_up="today"),
    }


def work_list(user, *, limit: int = WORK_LIST_SIZE) -> dict:
    """My leads whose next follow-up is overdue or due today, most overdue first, with the open follow-up's note.
    Counts follow the lead list's filters (overdue = due before today); an item is shown late once its time passed."""
    now = timezone.now()
    end = day_start(today() + timedelta(days=1))
    due = my_leads(user).filter(next_follow_up_at__lt=end)
    leads = list(due.select_related("stage", "company").order_by("next_follow_up_at", "id")[:limit])
    notes = {}
    for lead_id, note in (
        FollowUp.objects.filter(lead_id__in=[lead.pk for lead in leads], done_at__isnull=True)
        .exclude(note="")
        .order_by("lead_id", "-due_at")
        .values_list("lead_id", "note")
    ):
        notes.setdefault(lead_id, note)
    # The counts are the navigation's follow-up badge (kept 30 s, dropped when the user's follow-ups change).
    counts = nav_counts.for_user(user)
    total, overdue = counts.get("follow_ups_due", 0), counts.get("follow_ups_overdue", 0)
    return {
        "leads": [{"lead": lead, "note": notes.get(lead.pk, ""), "overdue": lead.next_follow_up_at < now}
                  for lead in leads],
        "total": total,
        "overdue": overdue,
        "due_today": total - overdue,
    }


def newly_assigned(user, *, limit: int = 10) -> dict:
    """Leads assigned to me since I last looked (or in the last 7 days when I never have): counted up to
    NEW_COUNT_CAP, and the newest `limit` read by their ids."""
    since = user.assignments_seen_at or timezone.now() - timedelta(days=RECENT_DAYS_WHEN_NEVER_SEEN)
    leads = owned_since(Lead.objects.order_by(), user, since)
    count = leads[: NEW_COUNT_CAP + 1].count()
    newest = leads.order_by("-assigned_at", "-id").values("pk")[:limit]
    return {
        "since": since,
        "never_seen": user.assignments_seen_at is None,
        "count": min(count, NEW_COUNT_CAP),
        "more": count > NEW_COUNT_CAP,
        "leads": list(Lead.objects.filter(pk__in=newest).select_related("stage").order_by("-assigned_at", "-id")),
    }


def recent_status_changes(user, *, limit: int = 10) -> list[StatusChange]:
    """My last status changes, on leads that are still mine (newest first, by the statuschange_by index)."""
    return list(
        StatusChange.objects.filter(by=user, lead__assigned_to=user)
        .select_related("lead", "from_stage", "to_stage")
        .order_by("-at")[:limit]
    )


def recently_updated(user, *, limit: int = 10) -> list[Lead]:
    return list(my_leads(user).select_related("stage").order_by("-updated_at", "-id")[:limit])
