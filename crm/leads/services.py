"""Every write to leads goes through here. Status changes, whatever their path, go through
lead_change_status (one lead) or leads_bulk_change_status (a set, in SQL)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import FollowUp, Lead, Stage, StatusChange


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
    """Move many leads to a stage in a few statements, each moved lead getting its StatusChange."""
    _check_stage(stage)
    now = timezone.now()
    moving = list(
        Lead.objects.filter(pk__in=lead_ids).exclude(stage=stage).order_by("pk").values_list("pk", "stage_id")
    )
    if not moving:
        return 0
    ids = [pk for pk, _ in moving]
    for start in range(0, len(ids), 10_000):
        Lead.objects.filter(pk__in=ids[start : start + 10_000]).update(
            stage=stage, stage_changed_at=now, updated_at=now, version=F("version") + 1
        )
    StatusChange.objects.bulk_create(
        [StatusChange(lead_id=pk, from_stage_id=old, to_stage=stage, by=by, at=now, note=note) for pk, old in moving],
        batch_size=5000,
    )
    if not stage.asks_follow_up:
        follow_up_stage_ids = set(Stage.objects.filter(asks_follow_up=True).values_list("pk", flat=True))
        leaving = [pk for pk, old in moving if old in follow_up_stage_ids]
        for start in range(0, len(leaving), 10_000):
            chunk = leaving[start : start + 10_000]
            FollowUp.objects.filter(lead_id__in=chunk, done_at__isnull=True).update(done_at=now)
            Lead.objects.filter(pk__in=chunk).update(next_follow_up_at=None)
    return len(moving)


def follow_ups_complete_open(*, lead: Lead, at=None) -> int:
    at = at or timezone.now()
    done = FollowUp.objects.filter(lead_id=lead.pk, done_at__isnull=True).update(done_at=at)
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=None)
    return done
