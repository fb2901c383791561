"""Large bulk actions run in a worker: the request queues a batch (state "queued", params say what to do)
and answers at once; the worker runs the same service inside one transaction and the batch page shows
the result. A queued batch runs at most once: the worker locks it and only runs it while it is queued."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.accounts.models import User
from crm.assignment.models import AssignmentBatch, BatchState, Method
from crm.leads.models import Stage
from crm.leads.services import InvalidStage

from .assign import leads_assign, leads_assign_next, leads_distribute, leads_unassign
from .common import AssignmentError, unpack_owners
from .stage import leads_stage_change
from .undo import batch_undo, check_undoable

ACTION_METHODS = {"assign": Method.BULK, "distribute": Method.DISTRIBUTE, "unassign": Method.UNASSIGN, "stage": Method.STAGE}


def runs_in_background(count: int) -> bool:
    """Actions on more leads than ASSIGNMENT_BACKGROUND_OVER (default 5,000) are queued for a worker."""
    return count > getattr(settings, "ASSIGNMENT_BACKGROUND_OVER", 5000)


@transaction.atomic
def batch_queue(*, by, method, params: dict, count: int = 0, undo_of=None) -> AssignmentBatch:
    """Queue a bulk action (the worker's job is enqueued when this transaction commits)."""
    from crm.assignment.jobs import enqueue_batch

    if undo_of is not None:
        check_undoable(AssignmentBatch.objects.select_for_update().get(pk=undo_of.pk))
    try:
        with transaction.atomic():
            batch = AssignmentBatch.objects.create(
                by=by, at=timezone.now(), method=method, state=BatchState.QUEUED, params=params, count=count,
                undo_of=undo_of,
            )
    except IntegrityError:
        raise AssignmentError("This action is already being undone.") from None
    enqueue_batch(batch)
    return batch


def bulk_action_run(*, action, expected, by, to_user=None, counsellors=(), stage=None, note="",
                    batch=None) -> AssignmentBatch:
    """One bulk action (ACTION_METHODS) on the leads of `expected` ({lead id: owner the caller saw}), now:
    from the page for a small set, from the worker (with its queued `batch`) for a large one."""
    ids = list(expected)
    if action == "assign":
        return leads_assign(lead_ids=ids, to_user=to_user, by=by, expected_owners=expected, batch=batch)
    if action == "distribute":
        return leads_distribute(lead_ids=ids, by=by, counsellors=list(counsellors) or None, expected_owners=expected,
                                batch=batch)
    if action == "unassign":
        return leads_unassign(lead_ids=ids, by=by, expected_owners=expected, batch=batch)
    if action == "stage":
        return leads_stage_change(lead_ids=ids, stage=stage, by=by, note=note, batch=batch)
    raise AssignmentError(f"Unknown bulk action “{action}”.")


def _counsellor(pk) -> User:
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise AssignmentError("The counsellor chosen no longer exists.")
    return user


def _run(batch) -> None:
    params, by = batch.params, batch.by
    op = params.get("op")
    if op == "bulk":
        action, stage = params["action"], None
        if action == "stage":
            stage = Stage.objects.filter(pk=params["stage"]).first()
            if stage is None:
                raise AssignmentError("The stage chosen no longer exists.")
        bulk_action_run(
            action=action, expected=unpack_owners(params["expected"]), by=by,
            to_user=_counsellor(params["to_user"]) if action == "assign" else None,
            counsellors=params.get("counsellors") or (), stage=stage, note=params.get("note", ""), batch=batch,
        )
    elif op == "next":
        leads_assign_next(to_user=_counsellor(params["to_user"]), n=params["n"], by=by,
                          newest_first=params["newest_first"], batch=batch)
    elif op == "undo":
        batch_undo(batch=AssignmentBatch.objects.get(pk=params["undo_of"]), by=by, undo_batch=batch)
    else:
        raise AssignmentError(f"Unknown queued operation “{op}”.")


def batch_run_queued(*, batch_id: int) -> AssignmentBatch | None:
    """Run a queued batch (the worker's job). Returns it done or failed; None when it was not queued."""
    with transaction.atomic():
        batch = AssignmentBatch.objects.select_for_update().filter(pk=batch_id, state=BatchState.QUEUED).first()
        if batch is None:
            return None
        try:
            with transaction.atomic():
                _run(batch)
        except (AssignmentError, InvalidStage) as exc:
            batch.refresh_from_db()
            batch.state, batch.error, batch.undo_of = BatchState.FAILED, str(exc), None
            batch.save(update_fields=["state", "error", "undo_of"])
        return batch


def batch_mark_failed(*, batch_id: int, error: str) -> int:
    """The worker gave up on a queued batch (it crashed or timed out): nothing was changed; say so."""
    return AssignmentBatch.objects.filter(pk=batch_id, state=BatchState.QUEUED).update(
        state=BatchState.FAILED, error=error, undo_of=None
    )
