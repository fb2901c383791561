"""Reads with rules: who sees imports (managers and admins: all of them, shared work), previews, progress."""

from itertools import islice

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from . import analysis
from .detect import WholeFileError
from .mapping import FIELDS, column_names, duplicate_headers
from .models import ImportJob, ImportRowError, ImportStatus, RowProblemLevel
from .normalise import INDEX, RowNormaliser

PREVIEW_ROWS = 20


def imports_visible_to(user) -> QuerySet[ImportJob]:
    if not user.is_authenticated or not user.is_active or not user.is_manager:
        return ImportJob.objects.none()
    return ImportJob.objects.select_related("created_by")


def import_get_for(user, pk) -> ImportJob:
    try:
        return imports_visible_to(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError):
        raise Http404("No such import.") from None


def mapping_rows(job: ImportJob) -> list[dict]:
    """One entry per column for the mapping step: header, chosen field, samples, notes."""
    names = column_names(job.columns)
    repeats = duplicate_headers(job.columns)
    samples = {i: [] for i in range(len(job.columns))}
    try:
        for cells in preview_cells(job, 3):
            for i in samples:
                if i < len(cells):
                    samples[i].append(readers_text(cells[i]))
    except WholeFileError:
        pass
    rows = []
    for index, name in enumerate(names):
        note = ""
        if index in repeats:
            note = f"Same header as column {names[repeats[index]]!s}: that one is used unless you choose this one."
        elif not str(job.columns[index]).strip():
            note = "No header: ignored unless you map it."
        rows.append({
            "index": index, "name": name, "field": job.mapping.get(str(index), ""),
            "samples": [s for s in samples.get(index, []) if s][:3], "note": note,
        })
    return rows


def readers_text(value) -> str:
    from .normalise import to_text

    return to_text(value)[:60]


def preview_cells(job: ImportJob, limit: int):
    return [cells for _number, cells in islice(analysis.data_sample(job), limit)]


def import_preview(job: ImportJob) -> dict:
    """The first rows as they will be stored, with their problems."""
    normaliser = RowNormaliser(columns=job.columns, mapping=job.mapping, defaults=job.defaults,
                               day_first=job.day_first, date1904=job.date1904)
    fields = [f for f in FIELDS if f in normaliser.mapped_fields and f not in {"first_name", "last_name"}]
    for extra in ("source", "interest"):
        if extra not in fields and job.defaults.get(extra):
            fields.append(extra)
    from crm.leads.models import Stage

    stage_names = dict(Stage.objects.values_list("pk", "name"))
    rows = []
    for row_number, cells in islice(analysis.data_sample(job), PREVIEW_ROWS):
        record, errors, warnings = normaliser(cells)
        values = []
        for field in fields:
            value = stage_names.get(record[INDEX["stage_id"]], "") if field == "stage" else record[INDEX[field]]
            values.append("" if value is None else value)
        rows.append({"number": row_number, "values": values, "errors": errors or [], "warnings": warnings or []})
    labels = [FIELDS[f][0] for f in fields]
    return {"labels": labels, "rows": rows}


def import_progress(job: ImportJob) -> dict:
    total = job.rows_total or 0
    done = job.rows_read
    percent = 100 if job.status == ImportStatus.COMPLETED else (min(100, int(done * 100 / total)) if total else 0)
    eta = None
    rate = None
    if job.status == ImportStatus.RUNNING and job.run_started_at and total:
        elapsed = (timezone.now() - job.run_started_at).total_seconds()
        processed = done - job.run_start_row
        if elapsed > 1 and processed > 0:
            rate = processed / elapsed
            eta = max(0, (total - done) / rate)
    return {"percent": percent, "eta_seconds": eta, "rate": rate, "total": total, "done": done}


def row_problems(job: ImportJob, level=RowProblemLevel.ERROR, limit: int = 50):
    return list(ImportRowError.objects.filter(job=job, level=level).order_by("row_number", "id")[:limit])


def error_file_rows(job: ImportJob):
    """The rejected rows as they were in the file, each with its reasons joined (for the error file)."""
    current, reasons, raw = None, [], None
    for row_number, column, reason, cells in (
        ImportRowError.objects.filter(job=job, level=RowProblemLevel.ERROR)
        .order_by("row_number", "id")
        .values_list("row_number", "column", "reason", "raw")
        .iterator(chunk_size=5000)
    ):
        if row_number != current:
            if current is not None:
                yield current, raw, reasons
            current, reasons, raw = row_number, [], cells
        reasons.append(f"{column}: {reason}" if column else reason)
    if current is not None:
        yield current, raw, reasons
