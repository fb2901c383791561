"""Every write to an import: create it from an upload, analyse it, set its options, start, cancel, resume.

Reverting lives in revert.py, chunked uploads in uploads.py, recovery of stalled imports in recovery.py.
"""

import logging
import uuid

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from crm.leads.models import Stage

from . import analysis, limits
from .detect import WholeFileError
from .mapping import FIELDS, auto_mapping, mapping_problems
from .models import ImportJob, ImportPhase, ImportStatus, OnDuplicate

log = logging.getLogger(__name__)

WAITING_FOR_WORKER = (
    "Waiting for a worker: the job queue cannot be reached right now. The file is saved, and the import "
    "starts by itself as soon as the queue is back."
)


class ImportRefused(ValueError):
    """A request the import cannot take in its current state (shown to the user as is)."""


def storage_name(job: ImportJob) -> str:
    """The name we store the upload under: never derived from the uploaded name."""
    return f"imports/{job.uuid}.upload"


def too_big_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:,.1f} MB; an import takes at most "
        f"{limits.max_bytes() / 1024 / 1024:,.0f} MB. Split it into smaller files."
    )


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status = ImportStatus.FAILED
    job.phase = ImportPhase.DONE
    job.message = message
    job.finished_at = timezone.now()
    job.save()
    return job


def import_create_from_file(*, by, file, original_name: str, source_label: str = "web") -> ImportJob:
    """Store an uploaded (or local) file under a name we choose and analyse it. A whole-file problem
    gives a FAILED import carrying the message (nothing is imported from it)."""
    size = getattr(file, "size", None)
    job = ImportJob.objects.create(
        created_by=by, original_name=(original_name or "upload")[-255:], file_size=size or 0,
        status=ImportStatus.UPLOADING, source_label=source_label,
    )
    if size is not None and size > limits.max_bytes():
        return _fail(job, too_big_message(size))
    if size == 0:
        return _fail(job, "The file is empty.")
    job.file = default_storage.save(storage_name(job), file)
    job.file_size = default_storage.size(job.file)
    return import_analyse(job=job)


def import_analyse(*, job: ImportJob) -> ImportJob:
    """Detect type, encoding, delimiter, sheet, header row and columns; map columns automatically."""
    if job.file_size > limits.max_bytes():
        return _fail(job, too_big_message(job.file_size))
    try:
        analysis.analyse(job)
    except WholeFileError as problem:
        return _fail(job, str(problem))
    job.mapping = auto_mapping(job.columns)
    first = Stage.objects.filter(is_active=True).order_by("position", "id").first()
    job.defaults = {"source": "", "interest": "", "stage": first.pk if first else None}
    job.status = ImportStatus.MAPPING
    job.save()
    if not job.columns or not any(str(c).strip() for c in job.columns):
        return _fail(job, "The file has no header row: the first rows are empty.")
    return job


def import_set_options(*, job: ImportJob, sheet=None, header_row=None, mapping=None, defaults=None,
                       on_duplicate=None, distribute=None, day_first=None) -> ImportJob:
    """Change what the mapping step shows. A new sheet or header row re-reads the headers and maps again."""
    if job.status != ImportStatus.MAPPING:
        raise ImportRefused("This import has already started; its mapping can no longer change.")
    reread = False
    if sheet is not None and job.sheets and sheet in job.sheets and sheet != job.sheet:
        job.sheet = sheet
        reread = True
        header_row = None
    if reread or (header_row is not None and header_row != job.header_row):
        try:
            analysis.choose_header(job, header_row)
        except WholeFileError as problem:
            raise ImportRefused(str(problem)) from None
        job.mapping = auto_mapping(job.columns)
    elif mapping is not None:
        job.mapping = {
            str(index): field for index, field in mapping.items()
            if field in FIELDS and 0 <= int(index) < len(job.columns)
        }
    if defaults is not None:
        job.defaults = {**job.defaults, **defaults}
    if on_duplicate is not None and on_duplicate in OnDuplicate.values:
        job.on_duplicate = on_duplicate
    if distribute is not None:
        job.distribute = bool(distribute)
    if day_first is not None:
        job.day_first = bool(day_first)
    job.save()
    return job


def new_rq_job_id(job: ImportJob) -> str:
    return f"import-{job.pk}-{uuid.uuid4().hex[:12]}"


@transaction.atomic
def import_start(*, job: ImportJob, by=None, enqueue_job: bool = True) -> ImportJob:
    """MAPPING -> QUEUED; the RQ job is enqueued once this transaction commits (the command line runs
    the import itself: enqueue_job=False)."""
    problems = mapping_problems(job.mapping)
    if problems:
        raise ImportRefused(" ".join(problems))
    job.rq_job_id = new_rq_job_id(job) if enqueue_job else ""
    started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.MAPPING).update(
        status=ImportStatus.QUEUED, rq_job_id=job.rq_job_id, mapping=job.mapping, defaults=job.defaults,
        on_duplicate=job.on_duplicate, distribute=job.distribute, day_first=job.day_first, message="",
    )
    if not started:
        raise ImportRefused("This import has already started.")
    if enqueue_job:
        transaction.on_commit(lambda: enqueue(job.pk, job.rq_job_id))
    job.refresh_from_db()
    return job


def enqueue(job_id: int, rq_job_id: str) -> bool:
    """Put the import's job on the imports queue; when Redis cannot be reached the import stays QUEUED
    with a message, and recovery enqueues it when the queue is back."""
    import django_rq
    from redis.exceptions import RedisError

    from .jobs import run_import_job

    try:
        queue = django_rq.get_queue("imports", commit_mode="auto")
        queue.enqueue(
            run_import_job, job_id, job_id=rq_job_id, job_timeout=limits.job_timeout(),
            result_ttl=86400, failure_ttl=7 * 86400, description=f"Import {job_id}",
        )
    except (RedisError, OSError) as error:
        log.warning("import %s: could not enqueue (%s)", job_id, error)
        ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(message=WAITING_FOR_WORKER)
        return False
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED, message=WAITING_FOR_WORKER).update(message="")
    return True


@transaction.atomic
def import_cancel(*, job: ImportJob, by=None) -> ImportJob:
    """Stop an import: a waiting one at once; a running one at its next batch (rows already saved stay)."""
    now = timezone.now()
    if ImportJob.objects.filter(
        pk=job.pk,
        status__in=[ImportStatus.QUEUED, ImportStatus.INTERRUPTED, ImportStatus.MAPPING, ImportStatus.UPLOADING],
    ).update(status=ImportStatus.CANCELLED, cancel_requested=True, finished_at=now, phase=ImportPhase.DONE,
             message="Cancelled before it finished." if job.checkpoint_row else "Cancelled."):
        job.refresh_from_db()
        return job
    if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(cancel_requested=True):
        raise ImportRefused("This import is not running, so there is nothing to cancel.")
    job.refresh_from_db()
    return job


@transaction.atomic
def import_resume(*, job: ImportJob, by=None) -> ImportJob:
    """INTERRUPTED -> QUEUED: the new run continues after the last saved batch."""
    rq_job_id = new_rq_job_id(job)
    if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.INTERRUPTED).update(
        status=ImportStatus.QUEUED, rq_job_id=rq_job_id, message="", cancel_requested=False
    ):
        raise ImportRefused("Only an interrupted import can be resumed.")
    transaction.on_commit(lambda: enqueue(job.pk, rq_job_id))
    job.refresh_from_db()
    return job


def import_automatic(*, job: ImportJob, progress=None, **options) -> ImportJob:
    """The command line's path: automatic mapping plus `options`, started and run in this process.
    A mapping the import cannot start with fails the import with the reason."""
    if job.status != ImportStatus.MAPPING:
        return job
    try:
        if options:
            job = import_set_options(job=job, **options)
        job = import_start(job=job, by=job.created_by, enqueue_job=False)
    except ImportRefused as problem:
        return _fail(job, str(problem))
    return import_run_now(job=job, progress=progress)


def import_run_now(*, job: ImportJob, progress=None) -> ImportJob:
    """Run a QUEUED import in this process (the command line); the same code the RQ job runs."""
    from .pipeline import run_import

    run_import(job.pk, rq_job_id="", progress=progress)
    job.refresh_from_db()
    return job
