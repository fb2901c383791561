"""PostgreSQL batches: COPY into a temporary table, match existing leads in SQL (an index probe per row),
then one INSERT ... SELECT ... ON CONFLICT (phone) DO NOTHING whose RETURNING feeds the StatusChange
insert, and (fill / overwrite) one UPDATE of the matched leads, locked in id order first."""

from django.db import connection

from crm.leads.models import Lead, StatusChange

from .models import OnDuplicate
from .normalise import LOAD_FIELDS, TEXT_FIELDS

IMPORT_LOCK_KEY = 7_301_004_2026  # pg_advisory_xact_lock key for batches holding e-mail-only leads
IMPORT_NOTE = "Imported"
_STAGE_TABLE = "crm_import_stage"
_COLUMN_TYPES = {"value": "numeric(14,2)", "lead_date": "date", "stage_id": "bigint"}


def load(loader, accepted, now):
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
        columns, expressions, params = _insert_columns(now, loader.by_id, loader.job_id)
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
            [*params, loader.by_id, now, IMPORT_NOTE],
        )
        created, matched = cursor.fetchone()
        updated = _update(loader, cursor, now) if matched else 0
    return created, updated, len(accepted) - created - updated

def _update(loader, cursor, now) -> int:
    if loader.on_duplicate == OnDuplicate.SKIP or not loader.update_fields:
        return 0
    # Lock the matched leads in id order first: two writers never wait on each other in a cycle.
    cursor.execute(
        f"SELECT l.id FROM {Lead._meta.db_table} l JOIN {_STAGE_TABLE} s ON s.lead_id = l.id "  # noqa: S608
        "ORDER BY l.id FOR UPDATE OF l"
    )
    fill = loader.on_duplicate == OnDuplicate.FILL
    sets, changed = [], []
    for field in loader.update_fields:
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
