"""One run of an import (the RQ job's body, and the command line's): claim, count, read, normalise, load.

A run claims the import with a conditional UPDATE that bumps `attempts`; the new value is the run's token
and every checkpoint is conditional on it, so a run that lost its claim (marked stale and resumed
elsewhere, or cancelled) can never commit another batch. Each batch commits its leads, its row problems,
the counts and the checkpoint together; a resumed run re-reads the rows before the checkpoint only to
rebuild the set of identities already seen, so it ends with exactly the leads an uninterrupted run makes.
Reading and normalising run in this thread while a second thread writes batches (the database works in
parallel with Python), with at most two batches in flight so memory stays flat.
"""

import logging
import queue
import threading

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import limits, readers
from .detect import WholeFileError
from .loader import BatchItem, Loader, LostClaim, Seen
from .mapping import mapping_problems
from .models import ImportBatch, ImportJob, ImportPhase, ImportStatus
from .normalise import RowNormaliser

log = logging.getLogger(__name__)


class Cancelled(Exception):
    pass


def claim(job_id: int, rq_job_id: str = "") -> int | None:
    """QUEUED -> RUNNING for this run; returns the run's token, or None when there is nothing to run."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED, cancel_requested=False).update(
        status=ImportStatus.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=Coalesce("started_at", now),
        run_started_at=now,
        run_start_row=F("rows_read"),
        rq_job_id=rq_job_id[:64],
        message="",
    )
    if not claimed:
        return None
    return ImportJob.objects.filter(pk=job_id).values_list("attempts", flat=True).get()


def _owned(job_id, token):
    return ImportJob.objects.filter(pk=job_id, attempts=token, status=ImportStatus.RUNNING)


class Heartbeat(threading.Thread):
    """Keeps heartbeat_at fresh while a run works on something long (counting, distributing)."""

    def __init__(self, job_id, token):
        super().__init__(daemon=True, name=f"import-{job_id}-heartbeat")
        self.job_id, self.token = job_id, token
        self.stopping = threading.Event()

    def run(self):
        try:
            while not self.stopping.wait(limits.heartbeat_seconds()):
                try:
                    _owned(self.job_id, self.token).update(heartbeat_at=timezone.now())
                except Exception:  # the next beat tries again
                    log.exception("import %s: heartbeat failed", self.job_id)
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def run_import(job_id: int, rq_job_id: str = "", progress=None) -> ImportJob | None:
    token = claim(job_id, rq_job_id)
    if token is None:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    inline = connection.in_atomic_block  # inside a caller's transaction: no threads, no second connection
    heartbeat = None if inline else Heartbeat(job_id, token)
    if heartbeat:
        heartbeat.start()
    try:
        _run(job, token, inline, progress)
    except WholeFileError as problem:
        _finish(job_id, token, ImportStatus.FAILED, str(problem))
    except (Cancelled, LostClaim):
        if ImportJob.objects.filter(pk=job_id, attempts=token, cancel_requested=True).exists():
            _finish(job_id, token, ImportStatus.CANCELLED, "Cancelled: the rows imported before it stopped are kept.",
                    any_status=True)
    except BaseException as error:
        _owned(job_id, token).update(
            status=ImportStatus.INTERRUPTED,
            message=f"The import stopped because of an error ({type(error).__name__}: {error}). "
            "Resume continues from the last saved row.",
        )
        raise
    finally:
        if heartbeat:
            heartbeat.stop()
    return ImportJob.objects.get(pk=job_id)


def _finish(job_id, token, status, message="", any_status=False):
    rows = ImportJob.objects.filter(pk=job_id, attempts=token)
    if not any_status:
        rows = rows.filter(status=ImportStatus.RUNNING)
    return rows.update(status=status, message=message, finished_at=timezone.now(), phase=ImportPhase.DONE)


def _set(job_id, token, **fields):
    if not _owned(job_id, token).update(**fields):
        raise LostClaim()


def _run(job, token, inline, progress):
    problems = mapping_problems(job.mapping)
    if problems:
        raise WholeFileError(" ".join(problems))
    if job.rows_total is None:
        _set(job.pk, token, phase=ImportPhase.COUNTING)
        job.rows_total = readers.data_row_count(job)
        _set(job.pk, token, rows_total=job.rows_total)
    if job.rows_total > limits.max_rows():
        raise WholeFileError(
            f"The file has {job.rows_total:,} rows; an import takes at most {limits.max_rows():,}. Split it "
            "into smaller files."
        )
    if job.rows_total == 0:
        raise WholeFileError("The file has a header row but no data rows.")
    _set(job.pk, token, phase=ImportPhase.LOADING)
    normaliser = RowNormaliser(
        columns=job.columns, mapping=job.mapping, defaults=job.defaults, day_first=job.day_first,
        date1904=job.date1904,
    )
    seen = Seen()
    loader = Loader(job, token, normaliser.mapped_fields)
    writer = _InlineWriter(loader) if inline else _ThreadWriter(loader, writers=_writer_count())
    batch_size = job.batch_rows or limits.batch_rows()
    if not job.batch_rows:
        _set(job.pk, token, batch_rows=batch_size)
    done = set(ImportBatch.objects.filter(job_id=job.pk).values_list("index", flat=True))
    nonblank = bool(done)
    data_index = 0
    with writer, readers.rows_of(job) as rows:
        items, batch_index = [], 0
        for position, (row_number, cells) in enumerate(rows):
            if position <= job.header_row:
                continue
            data_index += 1
            if data_index > limits.max_rows():
                raise WholeFileError(f"The file has more than {limits.max_rows():,} rows. Split it into smaller files.")
            batch_index = (data_index - 1) // batch_size
            saved = batch_index in done
            if not readers.is_blank(cells):
                nonblank = True
                record, errors, warnings = normaliser(cells)
                merged = False if errors else seen.merged(record[1], record[3])
                if not saved:
                    items.append(BatchItem(row_number, cells, record, errors, warnings, merged))
            if data_index % batch_size == 0:
                if not saved:
                    writer.put(items, batch_index, batch_size)
                items = []
                if progress:
                    progress(data_index)
        if not nonblank:
            raise WholeFileError("The file has a header row but no data rows.")
        last_rows = data_index % batch_size
        if last_rows and batch_index not in done:
            writer.put(items, batch_index, last_rows)
    if progress:
        progress(data_index)
    if job.distribute:
        _distribute(job, token)
    _finish(job.pk, token, ImportStatus.COMPLETED)


def _distribute(job, token):
    from crm.leads.models import Lead

    _set(job.pk, token, phase=ImportPhase.DISTRIBUTING)
    lead_ids = list(
        Lead.objects.filter(import_job_id=job.pk, assigned_to__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    if not lead_ids:
        return
    try:
        from crm.assignment.services import leads_distribute
    except ImportError:
        _set(job.pk, token, message="The leads were imported but not distributed: distribution is not available.")
        return
    with transaction.atomic():
        batch = leads_distribute(lead_ids=lead_ids, by=job.created_by, method="import")
        left = (batch.summary or {}).get("left_unassigned", 0) if batch is not None else len(lead_ids)
        _set(
            job.pk, token, assignment_batch=batch, distributed=(batch.count if batch is not None else 0),
            message=(f"{left:,} leads were left unassigned (no counsellor had room)." if left else ""),
        )


class _InlineWriter:
    def __init__(self, loader):
        self.loader = loader

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def put(self, items, batch_index, batch_rows):
        self.loader.write(items, batch_index, batch_rows)


def _writer_count() -> int:
    """PostgreSQL takes two batches at once (index upkeep runs in two server processes); SQLite has one writer."""
    return limits.writers() if connection.vendor == "postgresql" else 1


class _ThreadWriter:
    """Writes batches in worker threads (each its own database connection), a few batches queued at most.
    Batches may commit out of order; each records itself (ImportBatch) so a resumed run skips it."""

    def __init__(self, loader, writers=1):
        self.loader = loader
        self.queue = queue.Queue(maxsize=2 * writers)
        self.error = None
        self.threads = [
            threading.Thread(target=self._work, daemon=True, name=f"import-writer-{i}") for i in range(writers)
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def _work(self):
        try:
            while True:
                task = self.queue.get()
                if task is None:
                    return
                if self.error is None:
                    try:
                        self.loader.write(*task)
                    except BaseException as error:  # handed to the reading thread
                        self.error = error
        finally:
            connection.close()

    def put(self, items, batch_index, batch_rows):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put((items, batch_index, batch_rows), timeout=0.5)
                return
            except queue.Full:
                if not any(thread.is_alive() for thread in self.threads):
                    raise RuntimeError("the import's writer threads stopped") from self.error

    def __exit__(self, exc_type, exc, tb):
        for thread in self.threads:
            while thread.is_alive():
                try:
                    self.queue.put(None, timeout=0.5)
                    break
                except queue.Full:
                    continue
        for thread in self.threads:
            thread.join()
        if exc_type is None and self.error is not None:
            raise self.error
        return False
