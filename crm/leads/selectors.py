"""Reads with rules. Every lead query a view makes starts from leads_visible_to(user)."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from .models import Activity, Company, FollowUp, Lead, Stage, StageKind, StatusChange
from .owners import owned_by


def leads_visible_to(user) -> QuerySet[Lead]:
    """Managers and admins see every lead; a sales user only the leads assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_manager:
        return Lead.objects.all()
    return owned_by(Lead.objects.all(), user)


def lead_get_for(user, uuid) -> Lead:
    """The lead if the user may see it; 404 otherwise (never 403: do not reveal that it exists)."""
    try:
        return leads_visible_to(user).select_related("stage", "assigned_to", "company").get(uuid=uuid)
    except (Lead.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such lead.") from None


def active_stages() -> QuerySet[Stage]:
    return Stage.objects.filter(is_active=True).order_by("position", "id")


def first_stage() -> Stage:
    stage = active_stages().first()
    if stage is None:
        raise Stage.DoesNotExist("The pipeline has no active stage: load one with `manage.py load_pipeline`.")
    return stage


def leads_with_email(leads: QuerySet[Lead], email: str) -> QuerySet[Lead]:
    """The leads with this (lower-case) e-mail address: LOWER(email) = ..., which the lead_email_lower index
    serves (addresses are stored lower-case; an iexact lookup would not use the index)."""
    return leads.alias(email_lower=Lower("email")).filter(email_lower=email)


FUNNEL_KINDS = (StageKind.OPEN, StageKind.WON)  # lost stages are exits from the funnel, not steps


def funnel_steps() -> list[int]:
    """The funnel's steps: the active open and won stages in pipeline order."""
    return list(
        Stage.objects.filter(is_active=True, kind__in=FUNNEL_KINDS)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )


def reached_stage_q(stage) -> Q:
    """Leads that reached funnel step `stage`: at that step or a later one now, or with status history in
    it or a later one (entering or leaving). The dashboards' funnel counts the same leads. Not a step: none."""
    steps = funnel_steps()
    if stage.pk not in steps:
        return Q(pk__in=[])
    later = steps[steps.index(stage.pk):]
    history = StatusChange.objects.filter(lead=OuterRef("pk")).filter(Q(from_stage_id__in=later) | Q(to_stage_id__in=later))
    return Q(stage_id__in=later) | Q(Exists(history))


def leads_from_selection(user, data) -> QuerySet[Lead]:
    """The leads a bulk form on the lead list means: the checked `lead_ids`, or, with `select_all` = "1",
    every lead the list's filters (`filter_query`, a query string) match. Always within what the user may see;
    a filter query that does not validate selects nothing (never "everything")."""
    from django.http import QueryDict

    from .filters import LeadFilter

    visible = leads_visible_to(user)
    if data.get("select_all") == "1":
        lead_filter = LeadFilter(QueryDict(data.get("filter_query", ""), mutable=False), queryset=visible)
        if lead_filter.is_bound and not lead_filter.form.is_valid():
            return visible.none()
        return lead_filter.qs
    ids = []
    for value in data.getlist("lead_ids") if hasattr(data, "getlist") else data.get("lead_ids", []):
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return visible.filter(pk__in=ids)


# --- timeline ------------------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    kind: str  # "status", "activity", "follow_up", "assignment", "created"
    at: object
    by: object = None
    item: object = None
    sort_key: tuple = field(default=(), repr=False)


def lead_timeline(lead, limit: int = 100) -> list[TimelineEntry]:
    """Newest first: status changes (from → to, by, note), activities, follow-ups (set, due, done) and
    assignments, each source read with its (lead, -at) index and cut to `limit` before merging."""
    from crm.assignment.models import Assignment

    entries = []
    changes = StatusChange.objects.filter(lead_id=lead.pk).select_related("from_stage", "to_stage", "by")
    for change in changes.order_by("-at", "-id")[:limit]:
        entries.append(TimelineEntry("status", change.at, change.by, change, (change.at, 3, change.pk)))
    for activity in Activity.objects.filter(lead_id=lead.pk).select_related("by").order_by("-at", "-id")[:limit]:
        entries.append(TimelineEntry("activity", activity.at, activity.by, activity, (activity.at, 2, activity.pk)))
    follow_ups = FollowUp.objects.filter(lead_id=lead.pk).select_related("owner").order_by("-created_at", "-id")
    for follow_up in follow_ups[:limit]:
        entries.append(TimelineEntry("follow_up", follow_up.created_at, follow_up.owner, follow_up,
                                     (follow_up.created_at, 1, follow_up.pk)))
    assignments = Assignment.objects.filter(lead_id=lead.pk).select_related("from_user", "to_user", "by")
    for assignment in assignments.order_by("-at", "-id")[:limit]:
        entries.append(TimelineEntry("assignment", assignment.at, assignment.by, assignment,
                                     (assignment.at, 0, assignment.pk)))
    entries.sort(key=lambda entry: entry.sort_key, reverse=True)
    return entries[:limit]


# --- follow-ups ----------------------------------------------------------------------------------------


def follow_ups_visible_to(user, *, owner=None) -> QuerySet[FollowUp]:
    """Open follow-ups on leads the user may see. Sales users: their leads'. Managers: everyone's, or the
    leads of one counsellor (`owner`)."""
    follow_ups = FollowUp.objects.filter(done_at__isnull=True)
    if not user.is_authenticated or not user.is_active:
        return follow_ups.none()
    if user.is_manager:
        if owner is not None:
            follow_ups = follow_ups.filter(lead__assigned_to=owner)
    else:
        follow_ups = follow_ups.filter(lead__assigned_to=user)
    return follow_ups.select_related("lead", "lead__stage", "lead__assigned_to", "owner")


def follow_up_get_for(user, pk) -> FollowUp:
    """An open or done follow-up on a lead the user may see; 404 otherwise."""
    try:
        return FollowUp.objects.select_related("lead").get(pk=pk, lead__in=leads_visible_to(user))
    except (FollowUp.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such follow-up.") from None


def follow_ups_due_counts(user) -> dict:
    """The user's leads with a follow-up due by the end of today ("due"), and those of them overdue (due
    before today began), in the user's time zone: one pass over the follow-up index."""
    from .filters import day_bounds

    if not user.is_authenticated:
        return {"due": 0, "overdue": 0}
    start_of_today, end_of_today = day_bounds()
    return owned_by(Lead.objects.filter(next_follow_up_at__lt=end_of_today), user).aggregate(
        due=Count("pk"), overdue=Count("pk", filter=Q(next_follow_up_at__lt=start_of_today))
    )


def company_get(pk) -> Company:
    try:
        return Company.objects.prefetch_related("technologies").get(pk=pk)
    except (Company.DoesNotExist, ValueError):
        raise Http404("No such company.") from None
