"""Stalled and stranded imports: a run whose heartbeat stopped (worker killed, machine lost) becomes
INTERRUPTED; an interrupted import is resumed automatically while a worker is alive; a QUEUED import
whose RQ job is gone (Redis restarted or unreachable at upload) is enqueued again.

Runs from: the periodic sweep job (scheduled through the worker's scheduler: `rqworker --with-scheduler`),
the import pages (on load), and `manage.py import_recover [--loop SECONDS]`.
"""

import logging
from datetime import UTC, timedelta

from django.utils import timezone

from . import limits
from .models import ImportJob, ImportStatus

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "imports-sweep"
SWEEP_EVERY = timedelta(seconds=60)
STALE_MESSAGE = (
    "Interrupted: the worker running this import stopped answering (it may have been restarted). "
    "Everything up to the last saved row is kept; Resume continues from there."
)


def _queue():
    import django_rq

    return django_rq.get_queue("imports", commit_mode="auto")


def live_workers() -> int:
    """Workers listening on the imports queue that sent a heartbeat recently."""
    from rq import Worker

    queue = _queue()
    now = timezone.now()
    alive = 0
    for worker in Worker.all(queue=queue):
        beat = worker.last_heartbeat
        if beat is not None and timezone.is_naive(beat):
            beat = beat.replace(tzinfo=UTC)
        if beat is None or now - beat < timedelta(seconds=max(limits.stale_seconds(), 90)):
            alive += 1
    return alive


def mark_stale() -> int:
    cutoff = timezone.now() - timedelta(seconds=limits.stale_seconds())
    return ImportJob.objects.filter(status=ImportStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=ImportStatus.INTERRUPTED, message=STALE_MESSAGE
    )


def drop_abandoned_uploads(hours: int = 24) -> int:
    """Chunked uploads nobody finished within a day: their pieces are deleted, the import cancelled."""
    from django.core.files.storage import default_storage

    from .models import ImportUploadChunk

    cutoff = timezone.now() - timedelta(hours=hours)
    stale = list(ImportJob.objects.filter(status=ImportStatus.UPLOADING, created_at__lt=cutoff).values_list("pk", flat=True))
    for chunk in ImportUploadChunk.objects.filter(job_id__in=stale):
        default_storage.delete(chunk.file)
    ImportUploadChunk.objects.filter(job_id__in=stale).delete()
    return ImportJob.objects.filter(pk__in=stale, status=ImportStatus.UPLOADING).update(
        status=ImportStatus.CANCELLED, finished_at=timezone.now(),
        message="The upload was not finished within a day, so its pieces were removed.",
    )


def _rq_job_pending(rq_job_id: str) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    if not rq_job_id:
        return False
    try:
        job = Job.fetch(rq_job_id, connection=_queue().connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def imports_recover(worker_alive: bool | None = None) -> dict:
    """One sweep. Never raises for an unreachable Redis (the database part still runs)."""
    from redis.exceptions import RedisError

    from .services import enqueue, import_resume

    result = {"interrupted": mark_stale(), "resumed": 0, "requeued": 0, "abandoned_uploads": drop_abandoned_uploads()}
    try:
        queued = list(ImportJob.objects.filter(status=ImportStatus.QUEUED).values_list("pk", "rq_job_id"))
        for pk, rq_job_id in queued:
            if rq_job_id and not _rq_job_pending(rq_job_id):
                result["requeued"] += int(enqueue(pk, rq_job_id))
        interrupted = ImportJob.objects.filter(
            status=ImportStatus.INTERRUPTED, attempts__lt=limits.auto_resume_attempts()
        )
        if interrupted.exists():
            if worker_alive is None:
                worker_alive = live_workers() > 0
            if worker_alive:
                for job in interrupted:
                    try:
                        import_resume(job=job)
                        result["resumed"] += 1
                    except ValueError:
                        pass
    except (RedisError, OSError) as error:
        log.warning("import recovery could not reach Redis: %s", error)
    return result


def ensure_sweeper() -> bool:
    """Keep one periodic sweep scheduled (the worker's scheduler runs it; each run schedules the next)."""
    import uuid

    from redis.exceptions import RedisError
    from rq.registry import ScheduledJobRegistry

    from .jobs import sweep_imports_job

    try:
        queue = _queue()
        if any(job_id.startswith(SWEEP_JOB_ID) for job_id in ScheduledJobRegistry(queue=queue).get_job_ids()):
            return False
        queue.enqueue_in(SWEEP_EVERY, sweep_imports_job, job_id=f"{SWEEP_JOB_ID}-{uuid.uuid4().hex[:12]}",
                         job_timeout=600, result_ttl=600, failure_ttl=3600)
        return True
    except (RedisError, OSError):
        return False
