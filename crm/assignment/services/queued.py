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


def _run(batch) -> None:
    params, by = batch.params, batch.by
    op = params.get("op")
    if op == "bulk":
        expected = unpack_owners(params["expected"])
        ids, action = list(expected), params["action"]
        if action == "assign":
            to_user = User.objects.filter(pk=params["to_user"]).first()
            if to_user is None:
                raise AssignmentError("The counsellor chosen no longer exists.")
            leads_assign(lead_ids=ids, to_user=to_user, by=by, expected_owners=expected, batch=batch)
        elif action == "distribute":
            leads_distribute(lead_ids=ids, by=by, counsellors=params.get("counsellors") or None,
                             expected_owners=expected, batch=batch)
        elif action == "unassign":
            leads_unassign(lead_ids=ids, by=by, expected_owners=expected, batch=batch)
        elif action == "stage":
            stage = Stage.objects.filter(pk=params["stage"]).first()
            if stage is None:
                raise AssignmentError("The stage chosen no longer exists.")
            leads_stage_change(lead_ids=ids, stage=stage, by=by, note=params.get("note", ""), batch=batch)
        else:
            raise AssignmentError(f"Unknown bulk action “{action}”.")
    elif op == "next":
        to_user = User.objects.filter(pk=params["to_user"]).first()
        if to_user is None:
            raise AssignmentError("The counsellor chosen no longer exists.")
        leads_assign_next(to_user=to_user, n=params["n"], by=by, newest_first=params["newest_first"], batch=batch)
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
