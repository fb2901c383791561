"""Every write of the exports app: starting an export (allowance checked first), writing its file,
and expiring old files."""

import logging
import tempfile
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from crm.accounts.models import User

from . import selectors
from .fields import fields_for
from .models import ExportFormat, ExportJob, ExportPreference, ExportStatus
from .writers import WRITERS

logger = logging.getLogger(__name__)
# How long a background export may run (RQ job_timeout); 1,000,000 rows take a few minutes.
JOB_TIMEOUT = 2 * 3600


class ExportRefused(Exception):
    """The export is over the user's allowance; `str(error)` says what remains."""

    def __init__(self, message, allowance):
        super().__init__(message)
        self.allowance = allowance


class ExportNotPossible(Exception):
    """The export cannot be made as asked; `str(error)` says why and what to do."""


class NothingToExport(ExportNotPossible):
    pass


# An Excel sheet holds 1,048,576 rows, one of them our header.
XLSX_MAX_ROWS = 1_048_575


def runs_in_background(row_count: int) -> bool:
    return row_count > settings.EXPORT_SYNC_MAX_ROWS


def storage_name(export: ExportJob) -> str:
    """Names we choose (never anything the user typed): exports/<user id>/<export uuid>.<format>."""
    return f"exports/{export.user_id}/{export.uuid}.{export.format}"


@transaction.atomic
def export_create(
    *, user, fields: list[str], format: str, lead_ids=None, filter_query: str = "", now: datetime | None = None
) -> ExportJob:
    """Record an export of the selection, after checking the user may export and has the allowance
    for it (nothing is written when not). Remembers the fields and format as the user's preference.
    A big export (more than EXPORT_SYNC_MAX_ROWS rows) is queued for a worker once this commits; a
    small one is left QUEUED for the caller to run with `export_run` straight away."""
    if not selectors.user_may_export(user):
        raise PermissionDenied("You are not allowed to export leads.")
    chosen = fields_for(fields)
    if not chosen:
        raise ValueError("Choose at least one field to export.")
    if format not in ExportFormat.values:
        raise ValueError("Choose CSV or Excel.")
    # One export at a time per user: the allowance check and the new row are one decision.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    lead_ids = [int(pk) for pk in (lead_ids or []) if str(pk).isdigit()] or None
    rows = selectors.export_leads(user, lead_ids=lead_ids, filter_query=filter_query).count()
    if rows == 0:
        raise NothingToExport("There are no leads to export: the selection or the filter matches none.")
    if format == ExportFormat.XLSX and rows > XLSX_MAX_ROWS:
        raise ExportNotPossible(
            f"An Excel sheet holds at most {XLSX_MAX_ROWS:,} rows and this export has {rows:,}: "
            "choose CSV, or narrow the filter."
        )
    allowance = selectors.allowance_for(user, now)
    refusal = allowance.refusal(rows)
    if refusal:
        raise ExportRefused(refusal, allowance)
    keys = [field.key for field in chosen]
    export = ExportJob.objects.create(
        user=user, format=format, fields=keys, query=filter_query or "",
        lead_ids=lead_ids, row_count=rows, status=ExportStatus.QUEUED,
    )  # fmt: skip
    ExportPreference.objects.update_or_create(user=user, defaults={"fields": keys, "format": format})
    if runs_in_background(rows):
        from . import jobs

        jobs.enqueue_export(export)
    return export


def export_run(*, export_id: int) -> ExportJob | None:
    """Write the export's file. Claims the job first (QUEUED -> RUNNING), so a second run of the same
    job (a retried or duplicated queue entry) does nothing and returns None."""
    claimed = ExportJob.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, rows_written=0
    )
    if not claimed:
        return None
    export = ExportJob.objects.select_related("user").get(pk=export_id)
    try:
        if not selectors.user_may_export(export.user):
            raise PermissionDenied("The user is no longer allowed to export leads.")
        written, name = _write_file(export)
    except Exception as error:
        message = str(error) if isinstance(error, PermissionDenied) else "The export failed; please try again."
        ExportJob.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, message=message, finished_at=timezone.now()
        )
        raise
    finished = timezone.now()
    ExportJob.objects.filter(pk=export.pk).update(
        status=ExportStatus.READY, file=name, rows_written=written, row_count=written, finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_LINK_HOURS), message="",
    )  # fmt: skip
    export.refresh_from_db()
    return export


def _write_file(export: ExportJob) -> tuple[int, str]:
    # The list's filters ("follow-up due today", dates) mean the user's days, also in a worker.
    tz = selectors.user_time_zone(export.user)
    with timezone.override(tz):
        return _write_file_in(export, tz)


def _write_file_in(export: ExportJob, tz) -> tuple[int, str]:
    fields = fields_for(export.fields)
    queryset = selectors.export_job_leads(export)
    rows = selectors.export_rows(queryset, fields)

    def progress(count):
        ExportJob.objects.filter(pk=export.pk).update(rows_written=count)

    with tempfile.TemporaryFile() as scratch:
        written = WRITERS[export.format](
            scratch, fields, rows, tz=tz, progress=progress,
            expected_rows=export.row_count,
        )  # fmt: skip
        scratch.seek(0)
        name = default_storage.save(storage_name(export), File(scratch, name=storage_name(export)))
    return written, name


def exports_cleanup(*, now: datetime | None = None, stale_after: timedelta | None = None) -> dict:
    """Delete the files of expired exports and mark them EXPIRED; mark exports stuck QUEUED or RUNNING
    for longer than a job may run (a killed worker) as FAILED, deleting any partial file."""
    now = now or timezone.now()
    stale_after = stale_after or timedelta(seconds=JOB_TIMEOUT + 600)
    expired = 0
    due = ExportJob.objects.filter(status=ExportStatus.READY, expires_at__lte=now).values_list("pk", "file")
    for pk, name in due.iterator(chunk_size=500):
        _delete_file(name)
        expired += ExportJob.objects.filter(pk=pk, status=ExportStatus.READY).update(
            status=ExportStatus.EXPIRED, file=""
        )
    stuck = ExportJob.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING], created_at__lt=now - stale_after
    )
    for export in stuck.only("pk", "file", "user_id", "uuid", "format"):
        _delete_file(export.file)
        _delete_file(storage_name(export))  # a file half saved when the worker died
    failed = stuck.update(
        status=ExportStatus.FAILED, file="", finished_at=now, message="The export did not finish; please try again."
    )
    return {"expired": expired, "failed": failed}


def _delete_file(name: str) -> None:
    if not name:
        return
    try:
        default_storage.delete(name)
    except OSError:
        logger.warning("Could not delete export file %s", name, exc_info=True)
