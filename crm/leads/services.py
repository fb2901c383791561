"""Every write to leads goes through here. Status changes, whatever their path, go through
lead_change_status (one lead) or leads_bulk_change_status (a set, in SQL)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from crm.core import nav_counts
from crm.core.sql import IdIn, chunked

from .models import Activity, ActivityKind, Company, FollowUp, Lead, Stage, StatusChange
from .selectors import first_stage, leads_with_email


class VersionConflict(Exception):
    """The lead changed since the caller read it (optimistic locking): show the fresh state."""

    def __init__(self, lead):
        super().__init__("This lead was changed by someone else; the page now shows the latest version.")
        self.lead = lead


class InvalidStage(ValueError):
    pass


def _check_stage(stage) -> Stage:
    if not isinstance(stage, Stage) or not stage.is_active:
        raise InvalidStage("Choose one of the pipeline's active stages.")
    return stage


@transaction.atomic
def lead_change_status(*, lead: Lead, stage: Stage, by, note: str = "", version: int | None = None,
                       rank: int | None = None, extra_updates: dict | None = None) -> Lead:
    """Move a lead to a stage, writing its StatusChange. `version` (when given) must match the row's.

    Leaving a follow-up stage completes the lead's open follow-ups (seed 002's reminder rule).
    Returns the refreshed lead; raises VersionConflict (with the fresh lead) or InvalidStage.
    """
    _check_stage(stage)
    now = timezone.now()
    rows = Lead.objects.filter(pk=lead.pk)
    if version is not None:
        rows = rows.filter(version=version)
    current = rows.select_for_update().values_list("stage_id", flat=True).first()
    if current is None:
        raise VersionConflict(Lead.objects.select_related("stage", "assigned_to").get(pk=lead.pk))
    updates = {"version": F("version") + 1, "updated_at": now}
    if current != stage.pk:
        updates.update(stage=stage, stage_changed_at=now)
    if rank is not None:
        updates["rank"] = rank
    updates.update(extra_updates or {})
    rows.update(**updates)
    if current != stage.pk:
        StatusChange.objects.create(lead_id=lead.pk, from_stage_id=current, to_stage=stage, by=by, at=now, note=note)
        previous = Stage.objects.filter(pk=current).first()
        if previous is not None and previous.asks_follow_up and not stage.asks_follow_up:
            follow_ups_complete_open(lead=lead, at=now)
    return Lead.objects.select_related("stage", "assigned_to", "company").get(pk=lead.pk)


@transaction.atomic
def leads_bulk_change_status(*, lead_ids, stage: Stage, by, note: str = "") -> int:
    """Move many leads (an id list of any size) to a stage in a few statements, each moved lead getting its
    StatusChange."""
    _check_stage(stage)
    now = timezone.now()
    moving = []
    for chunk in chunked(sorted(lead_ids)):
        moving += Lead.objects.filter(IdIn(chunk)).exclude(stage=stage).order_by("pk").values_list("pk", "stage_id")
    if not moving:
        return 0
    for chunk in chunked([pk for pk, _ in moving]):
        Lead.objects.filter(IdIn(chunk)).update(stage=stage, stage_changed_at=now, updated_at=now, version=F("version") + 1)
    StatusChange.objects.bulk_create(
        [StatusChange(lead_id=pk, from_stage_id=old, to_stage=stage, by=by, at=now, note=note) for pk, old in moving],
        batch_size=5000,
    )
    if not stage.asks_follow_up:
        follow_up_stage_ids = set(Stage.objects.filter(asks_follow_up=True).values_list("pk", flat=True))
        for chunk in chunked([pk for pk, old in moving if old in follow_up_stage_ids]):
            FollowUp.objects.filter(IdIn(chunk, "lead_id"), done_at__isnull=True).update(done_at=now)
            Lead.objects.filter(IdIn(chunk)).update(next_follow_up_at=None)
    return len(moving)


def follow_ups_complete_open(*, lead: Lead, at=None) -> int:
    at = at or timezone.now()
    done = FollowUp.objects.filter(lead_id=lead.pk, done_at__isnull=True).update(done_at=at)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=None)
    return done


# --- leads ---------------------------------------------------------------------------------------------

CONTACT_KINDS = {"call", "email", "meeting", "sms", "whatsapp"}
LEAD_FIELDS = {"name", "phone", "alternate_phones", "email", "area", "city", "state", "country", "source",
               "interest", "value", "lead_date", "remark", "notes"}


class DuplicateLead(ValueError):
    def __init__(self, lead, what):
        super().__init__(f"A lead with this {what} already exists.")
        self.lead = lead


def check_can_work(lead: Lead, by) -> None:
    """Managers work every lead; a sales user only the leads assigned to them (views answer 404 before this)."""
    if not (by.is_manager or lead.assigned_to_id == by.pk):
        raise PermissionDenied("This lead is not assigned to you.")


def company_for_name(name: str):
    """The company called `name` (any case), created when there is none; None for a blank name."""
    name = " ".join((name or "").split())
    if not name:
        return None
    company = Company.objects.filter(name__iexact=name).order_by("pk").first()
    return company or Company.objects.create(name=name)


def _refresh_next_follow_up(lead) -> None:
    """Lead.next_follow_up_at = the earliest open follow-up (the list and the nav badge read it)."""
    earliest = FollowUp.objects.filter(lead_id=lead.pk, done_at__isnull=True).aggregate(m=Min("due_at"))["m"]
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=earliest)
    nav_counts.forget(lead.assigned_to_id)


@transaction.atomic
def lead_create(*, by, fields: dict, stage: Stage | None = None, assigned_to=None, company_name: str = "") -> Lead:
    """A new lead in `stage` (the first one by default) with its first StatusChange. A sales user's lead is
    theirs; a manager may name a counsellor. Raises DuplicateLead for a phone or e-mail already in use."""
    fields = {key: value for key, value in fields.items() if key in LEAD_FIELDS}
    stage = _check_stage(stage or first_stage())
    if not by.is_manager:
        assigned_to = by
    _check_duplicates(fields)
    now = timezone.now()
    lead = Lead.objects.create(
        **fields, stage=stage, stage_changed_at=now, created_by=by, company=company_for_name(company_name),
        assigned_to=assigned_to, assigned_at=now if assigned_to else None,
    )
    StatusChange.objects.create(lead=lead, from_stage=None, to_stage=stage, by=by, at=now, note="Created")
    nav_counts.forget(assigned_to)
    # Its Assignment row (by the creator, at assigned_at) is written by the database: leads migration 0009.
    return lead


def _check_duplicates(fields, exclude_pk=None):
    others = Lead.objects.exclude(pk=exclude_pk) if exclude_pk else Lead.objects.all()
    if fields.get("phone"):
        existing = others.filter(phone=fields["phone"]).first()
        if existing:
            raise DuplicateLead(existing, "phone number")
    if fields.get("email"):
        fields["email"] = fields["email"].strip().lower()
        existing = leads_with_email(others, fields["email"]).first()
        if existing:
            raise DuplicateLead(existing, "e-mail address")


@transaction.atomic
def lead_update(*, lead: Lead, by, fields: dict, company_name: str | None = None, version: int | None = None) -> Lead:
    """Edit the lead's own facts (never its stage, owner or creator: those have their own paths)."""
    check_can_work(lead, by)
    fields = {key: value for key, value in fields.items() if key in LEAD_FIELDS}
    _check_duplicates(fields, exclude_pk=lead.pk)
    if company_name is not None:
        fields["company"] = company_for_name(company_name)
    rows = Lead.objects.filter(pk=lead.pk)
    if version is not None:
        rows = rows.filter(version=version)
    if not rows.update(**fields, updated_at=timezone.now(), version=F("version") + 1):
        raise VersionConflict(Lead.objects.select_related("stage", "assigned_to", "company").get(pk=lead.pk))
    return Lead.objects.select_related("stage", "assigned_to", "company").get(pk=lead.pk)


@transaction.atomic
def lead_delete(*, lead: Lead, by) -> None:
    if not by.is_manager:
        raise PermissionDenied("Only managers and admins delete leads.")
    Lead.objects.filter(pk=lead.pk).delete()


@transaction.atomic
def lead_record_outcome(*, lead: Lead, by, stage: Stage, note: str = "", follow_up_at=None,
                        version: int | None = None) -> Lead:
    """One step after a contact: the new stage (with its StatusChange and note), the open follow-ups marked
    done, the next follow-up (if any) planned for the lead's counsellor, last_contacted_at now.
    Raises VersionConflict (someone changed the lead since `version`) or InvalidStage."""
    check_can_work(lead, by)
    now = timezone.now()
    previous_stage_id = lead.stage_id
    lead = lead_change_status(lead=lead, stage=stage, by=by, note=note, version=version,
                              extra_updates={"last_contacted_at": now})
    FollowUp.objects.filter(lead_id=lead.pk, done_at__isnull=True).update(done_at=now)
    if follow_up_at is not None:
        FollowUp.objects.create(lead_id=lead.pk, owner=lead.assigned_to or by, due_at=follow_up_at, note=note)
    if previous_stage_id == stage.pk and note:
        # No stage change, so no StatusChange carries the note: keep it as a note on the timeline.
        Activity.objects.create(lead_id=lead.pk, kind="note", outcome=stage.name, body=note, by=by, at=now)
    _refresh_next_follow_up(lead)
    return Lead.objects.select_related("stage", "assigned_to", "company").get(pk=lead.pk)


@transaction.atomic
def activity_log(*, lead: Lead, by, kind: str, outcome: str = "", subject: str = "", body: str = "",
                 at=None) -> Activity:
    """A call, e-mail, meeting, note, SMS or WhatsApp message on the lead's timeline. Contacts (all but notes)
    move last_contacted_at forward."""
    check_can_work(lead, by)
    if kind not in ActivityKind.values:
        raise ValueError(f"“{kind}” is not a kind of activity.")
    now = timezone.now()
    at = at or now
    activity = Activity.objects.create(lead_id=lead.pk, kind=kind, outcome=outcome, subject=subject, body=body,
                                       by=by, at=at)
    updates = {"updated_at": now}
    if kind in CONTACT_KINDS:
        Lead.objects.filter(pk=lead.pk).filter(
            Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=at)
        ).update(last_contacted_at=at)
    Lead.objects.filter(pk=lead.pk).update(**updates)
    return activity


# --- follow-ups ----------------------------------------------------------------------------------------


@transaction.atomic
def follow_up_complete(*, follow_up: FollowUp, by) -> FollowUp:
    check_can_work(follow_up.lead, by)
    FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(done_at=timezone.now())
    _refresh_next_follow_up(follow_up.lead)
    follow_up.refresh_from_db()
    return follow_up


@transaction.atomic
def follow_up_reschedule(*, follow_up: FollowUp, by, due_at) -> FollowUp:
    check_can_work(follow_up.lead, by)
    if follow_up.done_at is not None:
        raise ValueError("This follow-up is already done; plan a new one by recording an outcome.")
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=due_at)
    _refresh_next_follow_up(follow_up.lead)
    follow_up.refresh_from_db()
    return follow_up
