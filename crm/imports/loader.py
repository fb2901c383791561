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

from .models import ImportBatch, ImportJob, ImportRowError, ImportStatus, OnDuplicate, RowProblemLevel
from .normalise import INDEX, LOAD_FIELDS, TEXT_FIELDS, UPDATABLE

IMPORT_LOCK_KEY = 7_301_004_2026  # pg_advisory_xact_lock key for import batch writes
IMPORT_NOTE = "Imported"
_STAGE_TABLE = "crm_import_stage"
_COLUMN_TYPES = {"value": "numeric(14,2)", "lead_date": "date", "stage_id": "bigint"}


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
        """Stage the batch with COPY, match existing leads in SQL, insert the rest with their history,
        update matches (fill / overwrite), all in this transaction."""
        lead_table, history_table = Lead._meta.db_table, StatusChange._meta.db_table
        with connection.cursor() as cursor:
            if any(record[1] is None for record in accepted):
                # E-mail-only leads have no unique index: concurrent imports take turns for these batches.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
            cursor.execute(_stage_table_sql())
            with cursor.copy(f"COPY {_STAGE_TABLE} (seq, {', '.join(LOAD_FIELDS)}) FROM STDIN") as copy:
                write = copy.write_row
                for seq, record in enumerate(accepted):
                    write((seq, *record))
            cursor.execute(f"ANALYZE {_STAGE_TABLE}")
            cursor.execute(  # one index probe per row (a hash join would scan every lead)
                f"UPDATE {_STAGE_TABLE} s SET lead_id = (SELECT l.id FROM {lead_table} l "  # noqa: S608
                "WHERE l.phone = s.phone::varchar) WHERE s.phone IS NOT NULL"
            )
            cursor.execute(
                f"UPDATE {_STAGE_TABLE} s SET lead_id = (SELECT l.id FROM {lead_table} l "  # noqa: S608
                "WHERE lower(l.email) = s.email ORDER BY l.id LIMIT 1) WHERE s.phone IS NULL AND s.email IS NOT NULL"
            )
            columns, expressions, params = _insert_columns(now, self.by_id, self.job_id)
            cursor.execute(  # identifiers come from the model, values are parameters
                f"""
                WITH ins AS (
                    INSERT INTO {lead_table} ({", ".join(columns)})
                    SELECT {", ".join(expressions)} FROM {_STAGE_TABLE} s WHERE s.lead_id IS NULL ORDER BY s.seq
                    ON CONFLICT (phone) DO NOTHING
                    RETURNING id, stage_id
                ), history AS (
                    INSERT INTO {history_table} (lead_id, from_stage_id, to_stage_id, by_id, at, note)
                    SELECT id, NULL, stage_id, %s, %s, %s FROM ins
                )
                SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM {_STAGE_TABLE} WHERE lead_id IS NOT NULL)
                """,  # noqa: S608
                [*params, self.by_id, now, IMPORT_NOTE],
            )
            created, matched = cursor.fetchone()
            updated = self._update_pg(cursor, now) if matched else 0
        return created, updated, len(accepted) - created - updated

    def _update_pg(self, cursor, now) -> int:
        if self.on_duplicate == OnDuplicate.SKIP or not self.update_fields:
            return 0
        # Lock the matched leads in id order first: two writers never wait on each other in a cycle.
        cursor.execute(
            f"SELECT l.id FROM {Lead._meta.db_table} l JOIN {_STAGE_TABLE} s ON s.lead_id = l.id "  # noqa: S608
            "ORDER BY l.id FOR UPDATE OF l"
        )
        fill = self.on_duplicate == OnDuplicate.FILL
        sets, changed = [], []
        for field in self.update_fields:
            column = Lead._meta.get_field(field).column
            if field == "phone":
                new = (f"CASE WHEN l.phone IS NULL AND s.phone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "  # noqa: S608
                       f"{Lead._meta.db_table} x WHERE x.phone = s.phone) THEN s.phone ELSE l.phone END")
            elif field in TEXT_FIELDS or field in ("alternate_phones", "email"):
                empty = f"(l.{column} IS NULL OR l.{column} = '')"
                new = (f"CASE WHEN s.{field} <> '' AND {empty} THEN s.{field} ELSE l.{column} END" if fill
                       else f"COALESCE(NULLIF(s.{field}, ''), l.{column})")
            else:
                new = (f"COALESCE(l.{column}, s.{field})" if fill else f"COALESCE(s.{field}, l.{column})")
            sets.append(f"{column} = {new}")
            changed.append(f"l.{column} IS DISTINCT FROM {new}")
        cursor.execute(
            f"UPDATE {Lead._meta.db_table} l SET {', '.join(sets)}, updated_at = %s, version = l.version + 1 "  # noqa: S608
            f"FROM {_STAGE_TABLE} s WHERE s.lead_id = l.id AND ({' OR '.join(changed)})",
            [now],
        )
        return cursor.rowcount


def _stage_table_sql() -> str:
    columns = ", ".join(f"{field} {_COLUMN_TYPES.get(field, 'text')}" for field in LOAD_FIELDS)
    return (f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TABLE} (seq integer, {columns}, lead_id bigint) "
            "ON COMMIT DELETE ROWS")


def _insert_columns(now, by_id, job_id):
    """Every column of the lead table: staged values, the import's constants, and model defaults for
    columns added later by other parts (so a new NOT NULL column with a default never breaks imports)."""
    columns, expressions, params = [], [], []
    staged = set(LOAD_FIELDS)
    for field in Lead._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        if field.attname in staged:
            columns.append(column)
            expressions.append(f"s.{field.attname}")
        elif field.name == "uuid":
            columns.append(column)
            expressions.append("gen_random_uuid()")
        elif field.name in {"created_at", "updated_at", "stage_changed_at"}:
            columns.append(column)
            expressions.append("%s")
            params.append(now)
        elif field.name == "created_by":
            columns.append(column)
            expressions.append("%s")
            params.append(by_id)
        elif field.name == "import_job":
            columns.append(column)
            expressions.append("%s")
            params.append(job_id)
        elif field.has_default():
            columns.append(column)
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            continue
        elif getattr(field, "db_default", None) is not None and field.has_db_default():
            continue
        else:
            columns.append(column)
            expressions.append("%s")
            params.append("")
    return columns, expressions, params
