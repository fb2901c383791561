"""Undo of a bulk action: put back what the leads had before, for the leads nobody touched since.

"Touched" means the lead's owner or its version changed after the batch (a status change, an edit, a
board move, another assignment all bump the version). Those leads are left as they are, and the result
says how many and why.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.assignment.models import Assignment, AssignmentBatch, BatchState, Method, StageMove
from crm.core import nav_counts
from crm.leads.models import Stage
from crm.leads.services import leads_bulk_change_status

from ._sql import lock_leads, locks_only_if_raced, move_owners, read_leads
from .common import AssignmentError, start_batch

REASONS = {
    "owner_changed": "their owner changed since",
    "edited": "they were edited since (stage, details or activity)",
    "owner_inactive": "their previous owner is no longer active",
    "stage_inactive": "their previous stage is no longer in the pipeline",
    "missing": "they were deleted",
}


def _summary(batch, restored, skipped) -> dict:
    return {
        "undo_of": batch.pk,
        "requested": batch.count,
        "changed": restored,
        "not_undone": sum(skipped.values()),
        "reasons": [{"key": key, "count": n, "text": REASONS[key]} for key, n in skipped.items() if n],
        "stale": {"count": 0, "leads": []},
    }


def _undo_owners(batch, by, undo_batch, now, lock) -> tuple[int, dict]:
    rows = list(
        Assignment.objects.filter(batch=batch).order_by("lead_id")
        .values_list("lead_id", "from_user_id", "to_user_id", "version")
    )
    current = {pk: (owner, version) for pk, owner, version in read_leads([row[0] for row in rows], lock=lock)}
    inactive = set(User.objects.filter(pk__in={row[1] for row in rows if row[1]}, is_active=False).values_list("pk", flat=True))
    skipped = dict.fromkeys(REASONS, 0)
    groups = defaultdict(list)
    for lead_id, from_user, to_user, version in rows:
        if lead_id not in current:
            skipped["missing"] += 1
        elif current[lead_id][0] != to_user:
            skipped["owner_changed"] += 1
        elif version is not None and current[lead_id][1] != version:
            skipped["edited"] += 1
        elif from_user in inactive:
            skipped["owner_inactive"] += 1
        else:
            groups[from_user].append(lead_id)
    nav_counts.forget(*groups, *{row[2] for row in rows})
    restored = move_owners(groups, current, by_id=by.pk if by else None, at=now, method=Method.UNDO,
                           batch_id=undo_batch.pk, restore_from=batch.pk)
    return restored, skipped


def _undo_stages(batch, by) -> tuple[int, dict]:
    rows = list(StageMove.objects.filter(batch=batch).order_by("lead_id").values_list("lead_id", "from_stage_id", "version"))
    current = {pk: version for pk, version in lock_leads([row[0] for row in rows], fields=("pk", "version"))}
    stages = {stage.pk: stage for stage in Stage.objects.all()}
    skipped = dict.fromkeys(REASONS, 0)
    groups = defaultdict(list)
    for lead_id, from_stage, version in rows:
        if lead_id not in current:
            skipped["missing"] += 1
        elif current[lead_id] != version:
            skipped["edited"] += 1
        elif not stages[from_stage].is_active:
            skipped["stage_inactive"] += 1
        else:
            groups[from_stage].append(lead_id)
    note = f"Undo of bulk stage change #{batch.pk}"
    restored = sum(
        leads_bulk_change_status(lead_ids=ids, stage=stages[stage_id], by=by, note=note) for stage_id, ids in groups.items()
    )
    return restored, skipped


def check_undoable(batch, *, queued=None) -> None:
    if batch.undone_at is not None:
        raise AssignmentError("This action has already been undone.")
    if batch.method in (Method.UNDO, Method.MANUAL):
        raise AssignmentError("An undo cannot itself be undone; assign the leads again instead.")
    if batch.state != BatchState.DONE:
        raise AssignmentError("This action has not been done (it is queued or failed), so there is nothing to undo.")
    pending = AssignmentBatch.objects.filter(undo_of=batch).exclude(pk=getattr(queued, "pk", None))
    if pending.exists():
        raise AssignmentError("This action is already being undone.")


@transaction.atomic
def batch_undo(*, batch, by, undo_batch=None) -> dict:
    """Undo `batch`; returns the undo's summary (also kept on the undo's own batch, batch.undo_batch).
    `undo_batch`: the queued undo a worker is running now."""
    batch = AssignmentBatch.objects.select_for_update().get(pk=batch.pk)
    check_undoable(batch, queued=undo_batch)
    if batch.method == Method.STAGE:
        return _undo(batch, by, undo_batch, lock=True)
    return locks_only_if_raced(lambda lock: _undo(batch, by, undo_batch, lock=lock))


def _undo(batch, by, undo_batch, *, lock) -> dict:
    now = timezone.now()
    undo_batch = start_batch(undo_batch, by=by, at=now, method=Method.UNDO, undo_of=batch)
    if batch.method == Method.STAGE:
        restored, skipped = _undo_stages(batch, by)
    else:
        restored, skipped = _undo_owners(batch, by, undo_batch, now, lock)
    summary = _summary(batch, restored, skipped)
    undo_batch.count = restored
    undo_batch.summary = summary
    undo_batch.save(update_fields=["count", "summary"])
    batch.undone_at, batch.undone_by = now, by
    batch.save(update_fields=["undone_at", "undone_by"])
    return summary
