"""`python -m benchmarks export [--rows N]`: N leads (200,000 by default) to CSV and to XLSX, in rows/s.

Each scenario runs --repeat times (3); the median rows/s is reported, with best and worst.
Scenarios (each on the same N leads of the 1,000,000, newest first, read as the manager):
- fetch: the row stream alone (`values_list(...).iterator(chunk_size=...)`, one query with joins).
- csv / xlsx: the stream written by crm.exports.writers to a temporary file, as the export job does
  (escaping, time zone conversion, typed cells). Peers in the same run: for CSV a raw PostgreSQL
  `COPY (SELECT ...) TO STDOUT WITH CSV` of the same columns (the physical limit: no escaping, no time
  zones); for XLSX openpyxl's write-only mode fed the same converted values (its fastest documented mode).
- csv_all_fields / xlsx_all_fields: every exportable field (37 columns: company join, last-note subquery).
- end_to_end: `services.export_run` on a filtered list (the stage holding nearest N leads), file saved
  through default_storage;
  the export row and its file are deleted afterwards, so the data set is left as it was.
The data set is only read, except end_to_end's own ExportJob row, which is removed.
"""

import argparse
import resource
import statistics
import tempfile
import time

from django.core.files.storage import default_storage
from django.db import connection

from crm.exports import fields as export_fields
from crm.exports import selectors, services, writers
from crm.exports.models import ExportJob
from crm.leads.selectors import leads_visible_to

from .common import bench_users, describe_environment, emit, ensure_dataset

NAME = "export"


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks export")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; the median is reported")
    parser.add_argument("--no-peers", action="store_true", help="skip COPY and openpyxl")
    parser.add_argument("--no-all-fields", action="store_true")
    parser.add_argument("--no-end-to-end", action="store_true")
    args = parser.parse_args(argv)

    ensure_dataset()
    describe_environment(NAME)
    manager = bench_users()["manager"]
    tz = selectors.user_time_zone(manager)
    queryset = leads_visible_to(manager).order_by("-updated_at", "-id")[: args.rows]
    default_fields = export_fields.fields_for(export_fields.DEFAULT_KEYS)

    def rows(fields):
        return selectors.export_rows(queryset, fields, chunk_size=args.chunk_size)

    def fetch():
        n, seconds = timed(lambda: sum(1 for _ in rows(default_fields)))
        return n, seconds, 0

    report("fetch", repeat(fetch, args.repeat), columns=len(default_fields))

    for fmt in ("csv", "xlsx"):
        ours = repeat(
            lambda fmt=fmt: write(writers.WRITERS[fmt], default_fields, rows(default_fields), tz), args.repeat
        )
        extra = {}
        if not args.no_peers:
            peer = copy_csv if fmt == "csv" else openpyxl_write_only
            runs = repeat(lambda peer=peer: peer(queryset, default_fields, rows, tz), args.repeat)
            extra = {
                "peer": "postgresql COPY (no escaping)" if fmt == "csv" else "openpyxl write_only",
                "peer_value": median_rate(runs),
                "ratio": median_rate(ours) / median_rate(runs),
                "peer_bytes": runs[0][2],
            }
        report(fmt, ours, columns=len(default_fields), **extra)

    if not args.no_all_fields:
        all_fields = export_fields.FIELDS
        for fmt in ("csv", "xlsx"):
            runs = repeat(lambda fmt=fmt: write(writers.WRITERS[fmt], all_fields, rows(all_fields), tz), args.repeat)
            report(f"{fmt}_all_fields", runs, columns=len(all_fields))

    if not args.no_end_to_end:
        end_to_end(manager, args.repeat, args.rows)
    emit(NAME, "peak_memory", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB")


def repeat(fn, times):
    return [fn() for _ in range(max(1, times))]


def median_rate(runs):
    return statistics.median(n / seconds for n, seconds, _ in runs)


def report(scenario, runs, **extra):
    rates = [n / seconds for n, seconds, _ in runs]
    n, _, size = runs[0]
    emit(NAME, scenario, median_rate(runs), "rows/s", rows=n, best=max(rates), worst=min(rates),
         seconds=statistics.median(seconds for _, seconds, _ in runs), bytes=size, runs=len(runs), **extra)  # fmt: skip


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def write(writer, fields, stream, tz):
    with tempfile.TemporaryFile() as scratch:
        n, seconds = timed(lambda: writer(scratch, fields, stream, tz=tz, expected_rows=None))
        return n, seconds, scratch.tell()


def copy_csv(queryset, fields, rows, tz):
    """The same columns straight out of PostgreSQL with COPY: the physical limit of a CSV export."""
    if connection.vendor != "postgresql":
        return 0, 1.0, 0
    sql, params = queryset.values_list(*[field.lookup for field in fields]).query.sql_with_params()
    with tempfile.TemporaryFile() as scratch, connection.cursor() as cursor:
        started = time.perf_counter()
        query = cursor.cursor.mogrify(sql, params)
        n = 0
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                scratch.write(block)
                n += bytes(block).count(b"\n")
        return n - 1, time.perf_counter() - started, scratch.tell()


def openpyxl_write_only(queryset, fields, rows, tz):
    """openpyxl's write-only mode fed the same values, converted the same way (escaped text, local
    naive date-times): what a typical Django XLSX export does at its fastest."""
    from openpyxl import Workbook

    def convert(value):
        if isinstance(value, str):
            return writers.neutralise(value)
        if hasattr(value, "tzinfo") and value.tzinfo is not None:
            return value.astimezone(tz).replace(tzinfo=None)
        return value

    with tempfile.TemporaryFile() as scratch:
        started = time.perf_counter()
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Leads")
        sheet.append([field.label for field in fields])
        n = 0
        for row in rows(fields):
            sheet.append([convert(value) for value in row])
            n += 1
        book.save(scratch)
        return n, time.perf_counter() - started, scratch.tell()


def end_to_end(manager, times, target):
    """The export job's own path on a filtered list: count, query, write, save to storage."""
    from crm.leads import tally

    # The stage whose lead count is nearest the benchmark's row count (from the stage tally, not a scan).
    counts = [(stage, n) for stage, (n, _value) in tally.stage_totals(tally.EVERYONE).items()]
    stage_pk, _ = min(counts, key=lambda pair: abs(pair[1] - target))
    query = f"stage={stage_pk}"
    rows = selectors.export_leads(manager, filter_query=query).count()
    export = ExportJob.objects.create(
        user=manager, format="xlsx", fields=export_fields.DEFAULT_KEYS, query=query, row_count=rows
    )

    def run(fmt):
        ExportJob.objects.filter(pk=export.pk).update(status="queued", format=fmt, file="")
        done, seconds = timed(lambda: services.export_run(export_id=export.pk))
        size = default_storage.size(done.file)
        default_storage.delete(done.file)
        return done.rows_written, seconds, size

    try:
        for fmt in ("csv", "xlsx"):
            report(f"end_to_end_{fmt}", repeat(lambda fmt=fmt: run(fmt), times), filter=query)
    finally:
        ExportJob.objects.filter(pk=export.pk).delete()
