"""Set-based SQL helpers: id-list filters that stay one parameter on PostgreSQL, row locks in pk order,
the history insert (INSERT ... SELECT from the lead rows, before they change) and the owner move."""

from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import F, OuterRef, Subquery

from crm.assignment.models import Assignment
from crm.core.sql import IdIn, chunked, id_array, ids_sql
from crm.leads.models import Lead

BULK_WORK_MEM = "64MB"  # PostgreSQL's work_mem for a bulk action's move statement (move_owners)


def read_leads(ids, fields=("pk", "assigned_to_id", "version"), *, lock=True) -> list[tuple]:
    """Read `fields` of the leads in pk order; with `lock`, lock their rows first (SELECT ... FOR UPDATE on
    PostgreSQL).

    Everyone locks in the same order, so two bulk actions on overlapping leads queue up instead of
    deadlocking. SQLite has no row locks; its write transactions are serialised (BEGIN IMMEDIATE).
    """
    rows = []
    with by_primary_key():
        for chunk in chunked(sorted(set(ids))):
            leads = Lead.objects.filter(IdIn(chunk)).order_by("pk")
            rows += (leads.select_for_update() if lock else leads).values_list(*fields)
    return rows


@contextmanager
def pg_settings(values: dict):
    """Set PostgreSQL settings ({name: value}) for the statements inside, in one round trip, and put the
    previous values back in another (set_config(..., true): they end with the transaction in any case)."""
    if connection.vendor != "postgresql":
        yield
        return
    names = list(values)
    reads = ", ".join(["COALESCE(current_setting(%s, true), '')"] * len(names))
    sets = ", ".join(["set_config(%s, %s, true)"] * len(names))

    def pairs(new_values):
        return [part for name, value in zip(names, new_values, strict=True) for part in (name, value)]

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {reads}, {sets}", [*names, *pairs(values.values())])
        previous = cursor.fetchone()[: len(names)]
        try:
            yield
        finally:
            if not transaction_failed():
                cursor.execute(f"SELECT {sets}", pairs(previous))


# Read leads listed by id through the primary key, without JIT compilation. Once the lead table has been
# through a large import and its revert, its primary key index is twice its size, the planner prices 50,000
# key lookups above a (parallel) scan of the whole table and sorts, and compiles the plan (jit_above_cost):
# the bulk actions' two statements took 0.3 s longer that way.
BY_PRIMARY_KEY = {"enable_seqscan": "off", "jit": "off"}
# Tells the database's owner-history trigger (leads migration 0009) that the Assignment rows of these UPDATEs
# are written already. PostgreSQL only; SQLite's row trigger finds them itself.
HISTORY_WRITTEN = {"crm.owner_history_written": "on"}


def by_primary_key():
    return pg_settings(BY_PRIMARY_KEY)


def history_written():
    return pg_settings(HISTORY_WRITTEN)


def transaction_failed() -> bool:
    """Has a statement failed in the current (sub)transaction? Then nothing more can run until the rollback
    that must follow, and that rollback also takes back the settings made with set_config(..., true)."""
    from psycopg.pq import TransactionStatus

    return connection.connection.info.transaction_status == TransactionStatus.INERROR


def lock_leads(ids, fields=("pk", "assigned_to_id", "version")) -> list[tuple]:
    return read_leads(ids, fields, lock=True)


class Raced(Exception):
    """Some leads changed between reading them (unlocked) and moving them: another writer got there first."""


def locks_only_if_raced(action):
    """Run `action(lock=False)` in a savepoint, and `action(lock=True)` instead if it raced another writer.

    Locking 50,000 rows before reading them costs a quarter of a bulk action: every lock is a write (and a
    WAL record) of its own, then the UPDATE writes the row again. Unlocked, the action reads the leads, plans,
    and moves them in one statement that only moves a lead whose owner and version are still what it read
    (move_owners). If another writer changed one of them meanwhile (Raced), or the two UPDATEs deadlocked,
    the savepoint is rolled back and the action runs again the careful way, rows locked in pk order before
    they are read, so it then sees the other writer's changes and reports them as stale. SQLite serialises
    write transactions, so there it runs once, as if locked."""
    if connection.vendor != "postgresql":
        return action(lock=True)
    try:
        with transaction.atomic():
            return action(lock=False)
    except Raced:
        pass
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != "40P01":  # deadlock_detected
            raise
    return action(lock=True)


def insert_history(ids, *, to_user_id, by_id, at, method, batch_id) -> int:
    """One Assignment row per lead in `ids`, read from the lead rows as they are now (the previous owner,
    the previous assigned_at, the version the change will give): call it right before the UPDATE."""
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    table = connection.ops.quote_name(Assignment._meta.db_table)
    at_value = connection.ops.adapt_datetimefield_value(at)
    written = 0
    for chunk in chunked(ids):
        where, where_params = ids_sql("id", chunk)
        sql = (
            f"INSERT INTO {table} (lead_id, from_user_id, to_user_id, by_id, at, method, batch_id, version, "  # noqa: S608
            f"previous_assigned_at) SELECT id, assigned_to_id, %s, %s, %s, %s, %s, version + 1, assigned_at "
            f"FROM {lead_table} WHERE {where} ORDER BY id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [to_user_id, by_id, at_value, method, batch_id, *where_params])
            written += cursor.rowcount
    return written


def set_owner(ids, *, to_user_id, at, assigned_at=None) -> int:
    """Give the leads to `to_user_id` (None: unassigned), bumping their version. `assigned_at` defaults to
    `at` for an owner and None for no owner; pass an expression to restore earlier values. SQLite's half of
    move_owners (PostgreSQL moves the leads and writes their history in one statement there).

    updated_at is left alone: it is indexed, and an UPDATE that changes only unindexed columns is a HOT
    update, which writes no index entry (leads migration 0008). A reassigned lead so keeps its place in
    "recently updated"; its timeline, assigned_at and the owner's "new leads" show the change."""
    if assigned_at is None:
        assigned_at = at if to_user_id is not None else None
    changed = 0
    for chunk in chunked(ids):
        changed += Lead.objects.filter(IdIn(chunk)).update(
            assigned_to_id=to_user_id, assigned_at=assigned_at, version=F("version") + 1
        )
    return changed


def move_owners(moves, current, *, by_id, at, method, batch_id, restore_from=None) -> int:
    """Apply {to_user_id: [lead ids]} (None: unassign): one Assignment row per lead, then the new owner.

    `current`: {lead id: (owner id, version)} as the caller read them. `restore_from`: the batch being
    undone; a lead given back to its previous owner gets back the assigned_at it had then.

    On PostgreSQL the whole move is one statement, whatever the number of owners: an UPDATE joined to
    unnest(lead ids, new owners, owners read, versions read) that moves only the leads still as read,
    feeding the history INSERT through RETURNING. Fewer rows moved than asked means another writer changed
    some since they were read: Raced (see locks_only_if_raced). Elsewhere one insert_history and one
    set_owner per owner, under SQLite's write lock."""
    moves = {to_user_id: ids for to_user_id, ids in moves.items() if ids}
    if connection.vendor != "postgresql":
        for to_user_id, ids in moves.items():
            insert_history(ids, to_user_id=to_user_id, by_id=by_id, at=at, method=method, batch_id=batch_id)
            previous = None
            if restore_from is not None and to_user_id is not None:
                previous = Subquery(
                    Assignment.objects.filter(batch_id=restore_from, lead_id=OuterRef("pk"))
                    .order_by().values("previous_assigned_at")[:1]
                )
            set_owner(ids, to_user_id=to_user_id, at=at, assigned_at=previous)
        return sum(len(ids) for ids in moves.values())
    rows = sorted((pk, to_user_id, *current[pk]) for to_user_id, ids in moves.items() for pk in ids)
    if not rows:
        return 0
    lead_ids, to_ids, from_ids, versions = (id_array(column) for column in zip(*rows, strict=True))
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    table = connection.ops.quote_name(Assignment._meta.db_table)
    assigned_at, restore_join, restore_params = "%s::timestamptz", "", []
    if restore_from is not None:
        assigned_at = "r.previous_assigned_at"
        restore_join = f"LEFT JOIN {table} r ON r.batch_id = %s AND r.lead_id = m.lead_id"
        restore_params = [restore_from]
    # m: the moves joined to the rows as the statement finds them (`o`, for the history's previous
    # assigned_at: RETURNING shows the new row), fenced off (MATERIALIZED) so that the planner's guess of how
    # many leads are still as read cannot turn the UPDATE into a nested loop over `o`. "id = ANY(ids)" reads
    # the leads by their primary key; joined on the moves alone, the planner would merge them with a scan of
    # the whole key index.
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT m.*, o.assigned_at AS previous_assigned_at,
                CASE WHEN m.to_user_id IS NULL THEN NULL ELSE {assigned_at} END AS assigned_at
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
                    AS m(lead_id, to_user_id, from_user_id, version)
                JOIN {lead_table} o ON o.id = m.lead_id {restore_join}
            WHERE o.id = ANY(%s::bigint[])
        ), moved AS (
            UPDATE {lead_table} l SET assigned_to_id = m.to_user_id, version = l.version + 1, assigned_at = m.assigned_at
            FROM m
            WHERE l.id = m.lead_id AND l.id = ANY(%s::bigint[])
                AND l.version = m.version AND l.assigned_to_id IS NOT DISTINCT FROM m.from_user_id
            RETURNING l.id, m.from_user_id, m.to_user_id, l.version, m.previous_assigned_at
        )
        INSERT INTO {table} (lead_id, from_user_id, to_user_id, by_id, at, method, batch_id, version,
            previous_assigned_at)
        SELECT id, from_user_id, to_user_id, %s, %s, %s, %s, version, previous_assigned_at FROM moved
    """  # noqa: S608
    params = [
        *([at] if restore_from is None else []), lead_ids, to_ids, from_ids, versions, *restore_params,
        lead_ids, lead_ids, by_id, at, method, batch_id,
    ]
    # The statement's sort and the owner triggers' transition tables (two copies of every moved row) fit in
    # BULK_WORK_MEM; with the default 4 MB they spill to temporary files, a quarter of the statement's time.
    settings = {**HISTORY_WRITTEN, **BY_PRIMARY_KEY, "work_mem": BULK_WORK_MEM}
    with pg_settings(settings), connection.cursor() as cursor:
        cursor.execute(sql, params)
        moved = cursor.rowcount
    if moved != len(rows):
        raise Raced
    return moved
