"""`python -m benchmarks import`: the whole import pipeline, job included, on a generated 1,000,000-row CSV
and a 200,000-row XLSX, into a database that already holds 1,000,000 leads (so dedup is real).

In the same run, on the same data and model: django-import-export at its fastest documented settings
(use_bulk, skip_diff, CachedInstanceLoader; skipped with a message when it is not installed) and a raw
COPY of the already-normalised rows (the physical limit). Each imports into the same table and is
removed afterwards (our import through Revert import), so the shared data set stays as it was.

Options: --rows N (CSV rows, default 1,000,000), --xlsx-rows N (200,000), --peer-rows N (rows given to
django-import-export, default 100,000: it holds every row in memory), --skip-xlsx, --skip-peers.
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection

from benchmarks.common import describe_environment, emit, ensure_dataset, vacuum

BENCH = "import"
HEADER = ["Full Name", "Mobile No.", "Email ID", "City", "State", "Course", "Lead Source", "Enquiry Date", "Remarks"]
CITIES = [("Kochi", "Kerala"), ("Chennai", "Tamil Nadu"), ("Pune", "Maharashtra"), ("Bengaluru", "Karnataka"),
          ("Hyderabad", "Telangana"), ("Delhi", "Delhi"), ("Kolkata", "West Bengal"), ("Jaipur", "Rajasthan")]
COURSES = ["MBA", "BBA", "B.Tech", "M.Tech", "BCA", "MCA", "B.Com", "Nursing", "Hotel Management", "Law"]
SOURCES = ["Website", "Facebook", "Google Ads", "Walk-in", "Education fair", "Referral"]
FIRST = ["Aarav", "Vivaan", "Aditya", "Diya", "Ananya", "Ishaan", "Kavya", "Rohan", "Meera", "Arjun", "Fathima", "Joseph"]
LAST = ["Nair", "Menon", "Iyer", "Sharma", "Reddy", "Khan", "Das", "Patel", "Thomas", "Pillai", "Singh", "Rao"]


def new_phone(index: int) -> str:
    """Numbers outside the demo data's (crm.leads.demo.phone_for uses indexes below the lead count)."""
    return str(6_000_000_000 + ((50_000_000 + index) * 7_919) % 4_000_000_000)


def existing_phone(rng: random.Random, lead_count: int) -> str:
    return str(6_000_000_000 + (rng.randrange(lead_count) * 7_919) % 4_000_000_000)


def generate_rows(n: int, lead_count: int, seed: int = 2026):
    """Realistic rows: 3% already in the database, 1% repeated in the file, ~0.5% rejected."""
    rng = random.Random(seed)
    for i in range(n):
        roll = rng.random()
        if roll < 0.03 and lead_count:
            phone = existing_phone(rng, lead_count)
        elif roll < 0.04 and i > 10:
            phone = new_phone(rng.randrange(i))
        elif roll < 0.043:
            phone = "9.87654E+09"
        else:
            phone = new_phone(i)
        if rng.random() < 0.3:
            phone = f"+91 {phone[:5]} {phone[5:]}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = f"{name.lower().replace(' ', '.')}{i}@example.com" if rng.random() < 0.998 else "not-an-email"
        city, state = rng.choice(CITIES)
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        date = f"{day:02d}/{month:02d}/2026" if rng.random() < 0.7 else f"2026-{month:02d}-{day:02d}"
        yield [name, phone, email, city, state, rng.choice(COURSES), rng.choice(SOURCES), date,
               "Called once, asked for fee details" if rng.random() < 0.2 else ""]


def data_dir() -> Path:
    path = Path(settings.VAR_DIR) / "bench-import"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_csv(n: int, lead_count: int) -> Path:
    path = data_dir() / f"leads-{n}-{lead_count}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(generate_rows(n, lead_count))
        tmp.rename(path)
    return path


def make_xlsx(n: int, lead_count: int) -> Path:
    import openpyxl

    path = data_dir() / f"leads-{n}-{lead_count}.xlsx"
    if not path.exists():
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Leads")
        sheet.append(HEADER)
        for row in generate_rows(n, lead_count, seed=2027):
            sheet.append(row)
        tmp = path.with_suffix(".tmp.xlsx")
        workbook.save(tmp)
        tmp.rename(path)
    return path


def run_pipeline(path: Path, by) -> tuple[object, float, int]:
    """Upload + analyse + start in this process, then one RQ worker process runs the job (burst).
    Returns (job, seconds end to end, peak RSS of the worker in MB)."""
    from crm.imports.models import ImportJob
    from crm.imports.services import import_create_from_file, import_set_options, import_start

    started = time.perf_counter()
    with path.open("rb") as handle:
        job = import_create_from_file(by=by, file=File(handle, name=path.name), original_name=path.name)
    if job.status != "mapping":
        raise SystemExit(f"benchmark file rejected: {job.message}")
    job = import_set_options(job=job, defaults={"source": "", "interest": "", "stage": job.defaults.get("stage")})
    job = import_start(job=job, by=by)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings"}
    command = [sys.executable, "manage.py", "rqworker", "imports", "--burst", "--worker-class", "rq.SimpleWorker"]
    memory_file = data_dir() / "worker-peak-kb.txt"
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        # The worker's own peak: a process forked from this one would inherit this one's high-water mark.
        command = [str(gnu_time), "-f", "%M", "-o", str(memory_file), *command]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=Path(settings.BASE_DIR))
    _, status, usage = os.wait4(worker.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the worker exited with {os.waitstatus_to_exitcode(status)}")
    seconds = time.perf_counter() - started
    peak = int(memory_file.read_text().split()[-1]) if gnu_time.exists() else usage.ru_maxrss
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != "completed":
        raise SystemExit(f"import {job.pk} ended {job.status}: {job.message}")
    return job, seconds, peak // 1024


def revert(job, by):
    from crm.imports.revert import import_revert

    started = time.perf_counter()
    result = import_revert(job=job, by=by)
    return result, time.perf_counter() - started


def copy_peer(path: Path, limit: int) -> tuple[int, float]:
    """The physical limit: COPY (CSV format, from a prepared file) of the already-normalised new rows
    straight into the lead table, timed alone; the rows are removed afterwards."""
    import uuid

    from django.utils import timezone

    from crm.imports.mapping import auto_mapping
    from crm.imports.normalise import LOAD_FIELDS, RowNormaliser
    from crm.leads.models import Lead

    normaliser = RowNormaliser(columns=HEADER, mapping=auto_mapping(HEADER), defaults={}, day_first=True)
    fields = [f for f in LOAD_FIELDS if f != "source"]
    index = [LOAD_FIELDS.index(f) for f in fields]
    now = timezone.now().isoformat()
    prepared = data_dir() / "copy-peer.csv"
    seen, copied = set(), 0

    def flush(chunk, writer):
        with connection.cursor() as cursor:  # one index probe per phone
            cursor.execute(f"SELECT phone FROM {Lead._meta.db_table} WHERE phone = ANY(%s::varchar[])",  # noqa: S608
                           [[r[1] for r in chunk]])
            existing = {phone for (phone,) in cursor.fetchall()}
        written = 0
        for record in chunk:
            if record[1] not in existing:
                writer.writerow([uuid.uuid4(), now, now, 0, 1, "bench-copy", *[record[i] for i in index]])
                written += 1
        return written

    with path.open(newline="", encoding="utf-8") as source, prepared.open("w", newline="", encoding="utf-8") as out:
        reader, writer, chunk = csv.reader(source), csv.writer(out), []
        next(reader)
        for cells in reader:
            record, errors, _ = normaliser(cells)
            if errors or not record[1] or record[1] in seen:
                continue
            seen.add(record[1])
            chunk.append(record)
            if len(chunk) >= 5_000:
                copied += flush(chunk, writer)
                chunk = []
            if len(seen) >= limit:
                break
        copied += flush(chunk, writer)
    del seen
    table = Lead._meta.db_table
    text = [f for f in fields if f not in ("value", "lead_date", "stage_id", "phone", "email")]
    started = time.perf_counter()
    with connection.cursor() as cursor, prepared.open("rb") as handle:
        with cursor.copy(
            f"COPY {table} (uuid, created_at, updated_at, rank, version, source, {', '.join(fields)}) "
            f"FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({', '.join(text)}))"
        ) as copy:
            while block := handle.read(1024 * 1024):
                copy.write(block)
    seconds = time.perf_counter() - started
    prepared.unlink()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE source = 'bench-copy'")  # noqa: S608
    return copied, seconds


def import_export_peer(path: Path, limit: int) -> tuple[int, float] | None:
    try:
        import import_export  # noqa: F401
        import tablib
        from import_export import fields, resources, widgets
        from import_export.instance_loaders import CachedInstanceLoader
    except ImportError:
        return None
    from crm.leads.models import Lead, Stage

    stage = Stage.objects.filter(is_active=True).order_by("position").first()

    class LeadResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="Full Name")
        phone = fields.Field(attribute="phone", column_name="Mobile No.")
        email = fields.Field(attribute="email", column_name="Email ID")
        city = fields.Field(attribute="city", column_name="City")
        state = fields.Field(attribute="state", column_name="State")
        interest = fields.Field(attribute="interest", column_name="Course")
        remark = fields.Field(attribute="remark", column_name="Remarks")
        lead_date = fields.Field(attribute="lead_date", column_name="Enquiry Date", widget=widgets.DateWidget())

        class Meta:
            model = Lead
            import_id_fields = ["phone"]
            fields = ("name", "phone", "email", "city", "state", "interest", "remark", "lead_date")
            use_bulk = True
            batch_size = 5000
            skip_diff = True
            force_init_instance = False
            instance_loader_class = CachedInstanceLoader
            skip_unchanged = False
            use_transactions = True

        def before_import(self, dataset, **kwargs):
            """What the peer needs to do the same job: phones normalised, emails lower-cased, dates as ISO,
            invalid and repeated rows dropped (its bulk mode cannot skip a duplicate row by itself)."""
            from crm.imports.normalise import RowProblem, parse_date_text, to_email, to_phone

            kept, seen = [], set()
            for row in dataset.dict:
                try:
                    phone = to_phone(row["Mobile No."])
                    email = to_email(row["Email ID"])
                    day = parse_date_text(row["Enquiry Date"], True, False)
                except RowProblem:
                    continue
                if not phone or phone in seen:
                    continue
                seen.add(phone)
                row.update({"Mobile No.": phone, "Email ID": email, "Enquiry Date": day.isoformat()})
                kept.append([row[h] for h in dataset.headers])
            del dataset[:]
            for values in kept:
                dataset.append(values)

        def before_save_instance(self, instance, row, **kwargs):
            instance.stage_id = stage.pk
            instance.source = "bench-peer"

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        data = tablib.Dataset(headers=header)
        for i, row in enumerate(reader):
            if i >= limit:
                break
            data.append(row)
    started = time.perf_counter()
    LeadResource().import_data(data, dry_run=False, raise_errors=False, collect_failed_rows=False)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Lead._meta.db_table} WHERE source = 'bench-peer'")  # noqa: S608
    return min(limit, len(data)), seconds


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks import", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--peer-rows", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads the database must hold first")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args(argv)
    from crm.accounts.models import User
    from crm.leads.models import Lead, StatusChange

    lead_count = ensure_dataset(args.leads)
    describe_environment(BENCH)
    by = User.objects.filter(role="admin", is_active=True).order_by("pk").first() or \
        User.objects.filter(role="manager").order_by("pk").first()
    csv_path = make_csv(args.rows, lead_count)

    peers = {}
    if not args.skip_peers:  # the peers first: each removes its rows before our import runs
        peer = import_export_peer(csv_path, args.peer_rows)
        if peer is None:
            print("# django-import-export is not installed: its peer run is skipped "
                  "(pip install django-import-export into the venv to compare)", file=sys.stderr)
        else:
            peers["django-import-export"] = peer[0] / peer[1]
        copied, copy_seconds = copy_peer(csv_path, args.rows)
        peers["raw COPY of normalised rows"] = copied / copy_seconds
    job, seconds, peak_mb = run_pipeline(csv_path, by)
    rate = job.rows_read / seconds
    job_seconds = (job.finished_at - job.started_at).total_seconds()
    extra = dict(rows=job.rows_read, created=job.created, duplicates=job.duplicates, merged=job.merged,
                 errors=job.errors, seconds=round(seconds, 2), job_seconds=round(job_seconds, 2),
                 peak_rss_mb=peak_mb, load=os.getloadavg()[0])
    if peers:
        for name, value in peers.items():
            emit(BENCH, f"csv {job.rows_read:,} rows, end to end", rate, "rows/s", peer=name,
                 peer_value=round(value), ratio=round(rate / value, 2), **extra)
    else:
        emit(BENCH, f"csv {job.rows_read:,} rows, end to end", rate, "rows/s", **extra)
    result, revert_seconds = revert(job, by)
    emit(BENCH, "revert of the csv import (cleanup)", revert_seconds, "s", deleted=result["deleted"])

    if not args.skip_xlsx:
        xlsx_path = make_xlsx(args.xlsx_rows, lead_count)
        job, seconds, peak_mb = run_pipeline(xlsx_path, by)
        emit(BENCH, f"xlsx {job.rows_read:,} rows, end to end", job.rows_read / seconds, "rows/s",
             rows=job.rows_read, created=job.created, seconds=round(seconds, 2), peak_rss_mb=peak_mb,
             load=os.getloadavg()[0])
        revert(job, by)
    vacuum(Lead, StatusChange)  # the shared data set: clear the dead rows the reverted imports left
    return 0
