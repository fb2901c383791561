"""python manage.py import_leads FILE [--by EMAIL] [--source S] [--on-duplicate skip|fill|overwrite] [--distribute]

Runs the same pipeline as the web (automatic mapping, the same job, the same import history), in this
process, printing progress; the last line is one JSON object with the outcome.
"""

import json
import sys
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from crm.accounts.models import User
from crm.imports.models import ImportJob, ImportStatus, OnDuplicate
from crm.imports.services import import_automatic, import_create_from_file


class Command(BaseCommand):
    help = "Import leads from a CSV/TSV/XLSX/XLS/ODS file through the import pipeline."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--by", help="e-mail of the admin or manager the import is recorded for")
        parser.add_argument("--source", default="", help="source for rows that have none")
        parser.add_argument("--interest", default="", help="interest (course/product) for rows that have none")
        parser.add_argument("--on-duplicate", choices=OnDuplicate.values, default=OnDuplicate.SKIP)
        parser.add_argument("--distribute", action="store_true", help="share the new leads across counsellors")
        parser.add_argument("--sheet", help="sheet of a workbook (default: the first with data)")
        parser.add_argument("--month-first", action="store_true", help="read 03/04/2026 as March 4")
        parser.add_argument("--quiet", action="store_true", help="print only the final JSON line")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}")
        by = self._user(options["by"])
        with path.open("rb") as handle:
            job = import_create_from_file(by=by, file=File(handle, name=path.name), original_name=path.name,
                                          source_label="cli")
        started = time.monotonic()
        last = [0.0]

        def progress(rows):
            now = time.monotonic()
            if not options["quiet"] and now - last[0] >= 1:
                last[0] = now
                total = ImportJob.objects.filter(pk=job.pk).values_list("rows_total", flat=True).first()
                rate = rows / max(now - started, 1e-6)
                shown = f"{rows:,}/{total:,}" if total else f"{rows:,}"
                self.stderr.write(f"  {shown} rows  {rate:,.0f} rows/s")

        defaults = {k: v for k, v in {"source": options["source"], "interest": options["interest"]}.items() if v}
        job = import_automatic(
            job=job, progress=progress, sheet=options["sheet"], on_duplicate=options["on_duplicate"],
            distribute=options["distribute"], day_first=not options["month_first"], defaults=defaults or None,
        )
        result = {
            "import_id": job.pk, "status": job.status, "rows": job.rows_read, "created": job.created,
            "updated": job.updated, "duplicates": job.duplicates, "merged": job.merged, "errors": job.errors,
            "warnings": job.warnings,
        }
        if job.status != ImportStatus.COMPLETED and job.message:
            result["message"] = job.message
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        if job.status == ImportStatus.FAILED:
            raise SystemExit(1)

    def _user(self, email):
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No user with the e-mail {email}")
        else:
            user = User.objects.filter(role="admin", is_active=True).order_by("pk").first()
        if user is not None and not user.is_manager:
            raise CommandError(f"{user.email} is not an admin or a manager.")
        return user
