"""Writing one batch of normalised rows: new leads with their first StatusChange, updates of existing
leads (fill / overwrite), row problems, and the checkpoint, all in one transaction.

PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT (phone) DO NOTHING
whose RETURNING feeds the StatusChange insert. Other databases: bulk_create (SQLite writers are serialised
by its IMMEDIATE transactions, so the lookup made inside the transaction stays true).
Concurrent imports are serialised per batch by a transaction-level advisory lock on PostgreSQL, so an
e-mail-only lead (no unique index) is never created twice; the unique phone index guards the rest.
"""

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from crm.leads.models import Lead, StatusChange

from . import pgload
from .models import ImportBatch, ImportJob, ImportRowError, ImportStatus, OnDuplicate, RowProblemLevel
from .normalise import INDEX, LOAD_FIELDS, UPDATABLE
from .pgload import IMPORT_NOTE


class LostClaim(Exception):
    """Another run owns this import now (or it was cancelled): this run stops without committing."""


class Seen:
    """Identities of the rows accepted so far in this file (first wins); hashes keep memory flat."""

    def __init__(self):
        self.phones = set()
        self.emails = set()

    def merged(self, phone, email) -> bool:
        if phone:
            key = hash(phone)
            if key in self.phones:
                return True
            self.phones.add(key)
            if email:
                self.emails.add(hash(email))
            return False
        key = hash(email)
        if key in self.emails:
            return True
        self.emails.add(key)
        return False


class BatchItem:
    __slots__ = ("row_number", "cells", "record", "errors", "warnings", "merged")

    def __init__(self, row_number, cells, record, errors, warnings, merged=False):
        self.row_number = row_number
        self.cells = cells
        self.record = record
        self.errors = errors
        self.warnings = warnings
        self.merged = merged


def raw_cells(cells) -> list:
    return ["" if cell is None else cell if isinstance(cell, str) else str(cell) for cell in cells]


class Loader:
    def __init__(self, job: ImportJob, token: int, mapped_fields: set[str]):
        self.job_id = job.pk
        self.token = token
        self.by_id = job.created_by_id
        self.on_duplicate = job.on_duplicate
        self.update_fields = [f for f in UPDATABLE if f in mapped_fields]
        self.is_pg = connection.vendor == "postgresql"

    # --- one batch ---------------------------------------------------------------------------------

    def write(self, items: list[BatchItem], batch_index: int, batch_rows: int) -> dict:
        """Write one batch (rows already classified against the file's earlier rows by the reader)."""
        counts = dict(created=0, updated=0, duplicates=0, merged=0, errors=0, warnings=0, rows=batch_rows)
        with transaction.atomic():
            problems, accepted = [], []
            for item in items:
                if item.errors:
                    counts["errors"] += 1
                    problems.extend(self._problems(item, item.errors, RowProblemLevel.ERROR, with_raw=True))
                    continue
                record = item.record
                if item.merged:
                    counts["merged"] += 1
                    continue
                if item.warnings:
                    counts["warnings"] += 1
                    problems.extend(self._problems(item, item.warnings, RowProblemLevel.WARNING, with_raw=False))
                accepted.append(record)
            now = timezone.now()
            if accepted:
                load = self._load_pg if self.is_pg else self._load_generic
                created, updated, duplicates = load(accepted, now)
                counts.update(created=created, updated=updated, duplicates=duplicates)
            if problems:
                ImportRowError.objects.bulk_create(problems, batch_size=2000)
            ImportBatch.objects.create(job_id=self.job_id, index=batch_index, rows=batch_rows)
            self._checkpoint(counts, now)
        return counts

    def _load_generic(self, accepted, now):
        existing = self._existing(accepted)
        new = [record for record in accepted if id(record) not in existing]
        created = self._insert_generic(new, now) if new else 0
        updated = self._update_existing(existing, accepted, now) if existing else 0
        return created, updated, len(existing) - updated + len(new) - created

    def _problems(self, item, problems, level, with_raw):
        rows = []
        for i, (column, reason) in enumerate(problems):
            rows.append(
                ImportRowError(
                    job_id=self.job_id, row_number=item.row_number, column=column[:120], reason=reason,
                    raw=raw_cells(item.cells) if with_raw and i == 0 else [], level=level,
                )
            )
        return rows

    def _checkpoint(self, counts, now):
        done = ImportJob.objects.filter(
            pk=self.job_id, attempts=self.token, status=ImportStatus.RUNNING, cancel_requested=False
        ).update(
            checkpoint_row=F("checkpoint_row") + counts["rows"],
            rows_read=F("rows_read") + counts["rows"],
            created=F("created") + counts["created"],
            updated=F("updated") + counts["updated"],
            duplicates=F("duplicates") + counts["duplicates"],
            merged=F("merged") + counts["merged"],
            errors=F("errors") + counts["errors"],
            warnings=F("warnings") + counts["warnings"],
            heartbeat_at=now,
        )
        if not done:
            raise LostClaim()

    # --- existing leads ----------------------------------------------------------------------------

    def _existing(self, accepted) -> dict:
        """{id(record): lead values} for accepted rows that match a lead already in the database."""
        fields = ["id", "phone", "email"] + ([f for f in self.update_fields if f not in ("phone", "email")]
                                            if self.on_duplicate != OnDuplicate.SKIP else [])
        phones = [r[1] for r in accepted if r[1]]
        by_phone = {}
        for start in range(0, len(phones), 5000):
            for row in Lead.objects.filter(phone__in=phones[start : start + 5000]).values(*fields):
                by_phone[row["phone"]] = row
        matches, email_wanted = {}, []
        for record in accepted:
            if record[1]:
                lead = by_phone.get(record[1])
                if lead is not None:
                    matches[id(record)] = lead
            else:
                email_wanted.append(record)
        if email_wanted:
            emails = list({r[3] for r in email_wanted})
            by_email = {}
            for start in range(0, len(emails), 5000):
                rows = (
                    Lead.objects.annotate(email_key=Lower("email"))
                    .filter(email_key__in=emails[start : start + 5000])
                    .order_by("-pk")
                    .values(*fields, "email_key")
                )
                for row in rows:
                    by_email[row["email_key"]] = row  # the oldest lead with the address wins
            for record in email_wanted:
                lead = by_email.get(record[3])
                if lead is not None:
                    matches[id(record)] = lead
        return matches

    def _update_existing(self, existing, accepted, now) -> int:
        if self.on_duplicate == OnDuplicate.SKIP or not self.update_fields:
            return 0
        fill = self.on_duplicate == OnDuplicate.FILL
        changed, touched_fields = [], set()
        for record in accepted:
            lead = existing.get(id(record))
            if lead is None:
                continue
            values = {}
            for field in self.update_fields:
                new = record[INDEX[field]]
                if new is None or new == "":
                    continue
                old = lead.get(field)
                if field == "phone" and old:
                    continue  # the identity is never rewritten
                if fill and old not in (None, ""):
                    continue
                if new != old:
                    values[field] = new
            if values:
                touched_fields.update(values)
                changed.append((lead, values))
        if not changed:
            return 0
        objects = []
        ordered = sorted(touched_fields)
        for lead, values in changed:
            obj = Lead(pk=lead["id"])
            for field in ordered:
                setattr(obj, field, values[field] if field in values else lead[field])
            obj.updated_at = now
            obj.version = F("version") + 1
            objects.append(obj)
        Lead.objects.bulk_update(objects, ordered + ["updated_at", "version"], batch_size=1000)
        return len(objects)

    # --- new leads ---------------------------------------------------------------------------------

    def _insert_generic(self, new, now) -> int:
        leads = []
        for record in new:
            lead = Lead(**dict(zip(LOAD_FIELDS, record, strict=False)))
            lead.created_by_id = self.by_id
            lead.import_job_id = self.job_id
            lead.stage_changed_at = now
            leads.append(lead)
        Lead.objects.bulk_create(leads, batch_size=500)
        StatusChange.objects.bulk_create(
            [StatusChange(lead_id=lead.pk, from_stage_id=None, to_stage_id=lead.stage_id, by_id=self.by_id,
                          at=now, note=IMPORT_NOTE) for lead in leads],
            batch_size=1000,
        )
        return len(leads)

    def _load_pg(self, accepted, now):
        return pgload.load(self, accepted, now)
