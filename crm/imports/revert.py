"""Revert an import: delete the leads it created that nobody has touched since, and say how many it kept
and why. Existing leads it updated (fill / overwrite) are left as they are.

A lead counts as touched when, after the import finished, it was edited (updated_at later than the
import's end, or its version moved beyond what the import and its own distribution gave it), it has
an activity or a follow-up, it changed stage, or it was assigned by anything but the import.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import CASCADE, SET_NULL, Count, Exists, F, OuterRef, Q
from django.utils import timezone

from crm.assignment.models import Assignment
from crm.core.sql import IdIn
from crm.leads.models import Activity, FollowUp, Lead, StatusChange

from .models import ImportJob, ImportPhase, ImportStatus

REVERTIBLE = [ImportStatus.COMPLETED, ImportStatus.CANCELLED, ImportStatus.FAILED, ImportStatus.INTERRUPTED]
CHUNK = 20_000
# Large reverts run as a job; smaller ones answer at once.
INLINE_LIMIT = 20_000


class RevertRefused(ValueError):
    pass


def _touch_conditions(job: ImportJob) -> dict[str, Q]:
    finished = (job.finished_at or timezone.now()) + timedelta(seconds=1)
    import_batch = job.assignment_batch_id
    foreign_assignment = Assignment.objects.filter(lead=OuterRef("pk"))
    own_assignment = Assignment.objects.filter(lead=OuterRef("pk"), batch_id=import_batch) if import_batch else None
    if import_batch:
        foreign_assignment = foreign_assignment.exclude(batch_id=import_batch)
    stage_moves = StatusChange.objects.filter(lead=OuterRef("pk")).exclude(from_stage__isnull=True)
    base_version = 1
    edited = Q(updated_at__gt=finished) | Q(version__gt=base_version)
    if own_assignment is not None:
        edited = Q(updated_at__gt=finished) | (Q(version__gt=base_version) & ~Exists(own_assignment)) | Q(
            version__gt=base_version + 1
        )
    return {
        "edited": edited,
        "activities": Exists(Activity.objects.filter(lead=OuterRef("pk"))) | Exists(FollowUp.objects.filter(lead=OuterRef("pk"))),
        "moved": Exists(stage_moves),
        "reassigned": Exists(foreign_assignment),
    }


KEPT_REASONS = {
    "edited": "edited since the import",
    "activities": "have calls, notes or follow-ups",
    "moved": "moved to another stage",
    "reassigned": "were assigned by someone since",
}


def revert_summary(job: ImportJob) -> dict:
    """What a revert would do now: {"deletable": n, "kept": {reason: n}} (a lead is counted under its
    first reason). One scan of the import's leads."""
    conditions = _touch_conditions(job)
    aggregates, earlier = {"total": Count("pk")}, None
    for key, condition in conditions.items():
        condition = Q(condition)
        aggregates[key] = Count("pk", filter=condition if earlier is None else condition & ~earlier)
        earlier = condition if earlier is None else earlier | condition
    counts = Lead.objects.filter(import_job_id=job.pk).aggregate(**aggregates)
    total = counts.pop("total")
    kept = {key: count for key, count in counts.items() if count}
    return {"deletable": total - sum(kept.values()), "kept": kept}


def delete_leads(ids) -> int:
    """Delete leads and what hangs off them in a few set-based statements (no objects loaded). The ids go
    to PostgreSQL as one array parameter: as 20,000 separate parameters, building and quoting each statement
    took more CPU than the database took to run it."""
    for relation in Lead._meta.related_objects:
        model, field = relation.related_model, relation.field
        if relation.many_to_many:
            through = relation.through
            lead_fk = next(f for f in through._meta.fields if f.related_model is Lead)
            rows = through._base_manager.filter(IdIn(ids, lead_fk.attname))
            rows._raw_delete(rows.db)
            continue
        rows = model._base_manager.filter(IdIn(ids, field.attname))
        on_delete = field.remote_field.on_delete
        if on_delete is CASCADE:
            if model._meta.related_objects:
                rows.delete()  # something hangs off these rows too: let Django collect it
            else:
                rows._raw_delete(rows.db)
        elif on_delete is SET_NULL:
            rows.update(**{field.name: None})
    leads = Lead._base_manager.filter(IdIn(ids))
    return leads._raw_delete(leads.db)


def _deletable(job: ImportJob):
    leads = Lead.objects.filter(import_job_id=job.pk)
    for condition in _touch_conditions(job).values():
        leads = leads.exclude(condition)
    return leads


def revert_request(*, job: ImportJob, by) -> ImportJob:
    """Start a revert: small imports are reverted at once, large ones by a job on the imports queue."""
    if job.created <= INLINE_LIMIT:
        import_revert(job=job, by=by)
    else:
        _claim(job, by)
        import django_rq

        from .jobs import revert_import_job

        transaction.on_commit(
            lambda: django_rq.get_queue("imports", commit_mode="auto").enqueue(
                revert_import_job, job.pk, by.pk if by else None, job_timeout=3600
            )
        )
    job.refresh_from_db()
    return job


def _claim(job, by):
    claimed = ImportJob.objects.filter(pk=job.pk, status__in=REVERTIBLE).update(
        status=ImportStatus.REVERTED, phase=ImportPhase.REVERTING, reverted_by=by, reverted_at=timezone.now(),
        message="Reverting…",
    )
    if not claimed:
        if job.status == ImportStatus.REVERTED:
            raise RevertRefused("This import has already been reverted.")
        raise RevertRefused("Only a finished, cancelled or interrupted import can be reverted (wait for it to stop).")


def import_revert(*, job: ImportJob, by) -> dict:
    job.refresh_from_db()
    if job.phase != ImportPhase.REVERTING:
        _claim(job, by)
        job.refresh_from_db()
    summary = revert_summary(job)
    deleted, last = 0, 0
    while True:
        with transaction.atomic():
            ids = list(_deletable(job).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
            if not ids:
                break
            locked = list(
                _deletable(job).filter(IdIn(ids)).select_for_update().order_by("pk").values_list("pk", flat=True)
            )
            if locked:
                deleted += delete_leads(locked)
            last = ids[-1]
    kept = summary["kept"]
    parts = [f"{count:,} {KEPT_REASONS[key]}" for key, count in kept.items()]
    message = f"Reverted: deleted {deleted:,} lead{'s' if deleted != 1 else ''} this import created."
    total_kept = sum(kept.values())
    if total_kept:
        message += f" Kept {total_kept:,} that people have worked on since ({'; '.join(parts)})."
    if job.updated:
        message += f" The {job.updated:,} existing leads it updated are left as they are."
    result = {"deleted": deleted, "kept": kept, "kept_total": total_kept, "updated_left": job.updated}
    ImportJob.objects.filter(pk=job.pk).update(
        phase=ImportPhase.DONE, message=message, revert_summary=result, created=F("created")
    )
    return result
