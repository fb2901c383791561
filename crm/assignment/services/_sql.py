"""Set-based SQL helpers: id-list filters that stay one parameter on PostgreSQL, row locks in pk order,
and the history insert (INSERT ... SELECT from the lead rows, before they change)."""

from contextlib import contextmanager

from django.db import connection
from django.db.models import BooleanField, Expression, F

from crm.assignment.models import Assignment
from crm.leads.models import Lead

SQLITE_CHUNK = 10_000  # stays well below SQLite's limit on bound parameters


def id_array(values) -> str:
    """A PostgreSQL array literal of ids (None: NULL), bound as one text parameter and cast with ::bigint[].

    psycopg would quote a Python list of 50,000 ints element by element (a regular expression each: ~0.1 s
    of CPU per list); this string costs one join."""
    values = list(values)
    if None in values:
        return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"
    return "{" + ",".join(map(str, map(int, values))) + "}"


class IdIn(Expression):
    """`column IN (ids)`: one array parameter (`= ANY(%s::bigint[])`) on PostgreSQL, a plain IN list elsewhere."""

    output_field = BooleanField()

    def __init__(self, ids, column="pk"):
        super().__init__()
        self.ids = list(ids)
        self.lhs = F(column)

    def get_source_expressions(self):
        return [self.lhs]

    def set_source_expressions(self, exprs):
        (self.lhs,) = exprs

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*params, id_array(self.ids))
        if not self.ids:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(self.ids))})", (*params, *self.ids)


def chunked(ids):
    """One chunk on PostgreSQL (an array parameter has no size limit), SQLITE_CHUNK-sized ones elsewhere."""
    ids = list(ids)
    if not ids:
        return
    size = len(ids) if connection.vendor == "postgresql" else SQLITE_CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def lock_leads(ids, fields=("pk", "assigned_to_id", "version")) -> list[tuple]:
    """Lock the leads' rows in pk order (SELECT ... FOR UPDATE on PostgreSQL) and read `fields`.

    Everyone locks in the same order, so two bulk actions on overlapping leads queue up instead of
    deadlocking. SQLite has no row locks; its write transactions are serialised (BEGIN IMMEDIATE).
    """
    rows = []
    for chunk in chunked(sorted(set(ids))):
        rows += Lead.objects.filter(IdIn(chunk)).order_by("pk").select_for_update().values_list(*fields)
    return rows


def _ids_sql(column, ids):
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [id_array(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def insert_history(ids, *, to_user_id, by_id, at, method, batch_id) -> int:
    """One Assignment row per lead in `ids`, read from the lead rows as they are now (the previous owner,
    the previous assigned_at, the version the change will give): call it right before the UPDATE."""
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    table = connection.ops.quote_name(Assignment._meta.db_table)
    at_value = connection.ops.adapt_datetimefield_value(at)
    written = 0
    for chunk in chunked(ids):
        where, where_params = _ids_sql("id", chunk)
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
    `at` for an owner and None for no owner; pass an expression to restore earlier values.

    updated_at is left alone: it is indexed, and an UPDATE that changes only unindexed columns is a HOT
    update, which writes no index entry (leads migration 0008). A reassigned lead so keeps its place in
    "recently updated"; its timeline, assigned_at and the owner's "new leads" show the change."""
    if assigned_at is None:
        assigned_at = at if to_user_id is not None else None
    changed = 0
    with history_written():
        for chunk in chunked(ids):
            changed += Lead.objects.filter(IdIn(chunk)).update(
                assigned_to_id=to_user_id, assigned_at=assigned_at, version=F("version") + 1
            )
    return changed


def move_owners(moves, *, by_id, at, method, batch_id) -> int:
    """Apply {to_user_id: [lead ids]} (None: unassign): one Assignment row per lead, then the new owner.

    On PostgreSQL the whole move is two statements, whatever the number of owners: the history INSERT
    and the owner UPDATE both join the lead rows to unnest(lead ids, owner ids). Elsewhere one
    insert_history and one set_owner per owner."""
    moves = {to_user_id: ids for to_user_id, ids in moves.items() if ids}
    if connection.vendor != "postgresql":
        for to_user_id, ids in moves.items():
            insert_history(ids, to_user_id=to_user_id, by_id=by_id, at=at, method=method, batch_id=batch_id)
            set_owner(ids, to_user_id=to_user_id, at=at)
        return sum(len(ids) for ids in moves.values())
    pairs = sorted((pk, to_user_id) for to_user_id, ids in moves.items() for pk in ids)
    if not pairs:
        return 0
    lead_ids, owner_ids = id_array(pk for pk, _ in pairs), id_array(to_user_id for _, to_user_id in pairs)
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    table = connection.ops.quote_name(Assignment._meta.db_table)
    # "l.id = ANY(ids)" reads the leads by their primary key; the planner then hashes them against the
    # (lead, owner) pairs. Joined on the pairs alone, it would merge them with a scan of the whole key index.
    moving = "unnest(%s::bigint[], %s::bigint[]) AS m(lead_id, to_user_id)"
    with connection.cursor() as cursor, history_written():
        cursor.execute(
            f"INSERT INTO {table} (lead_id, from_user_id, to_user_id, by_id, at, method, batch_id, version, "  # noqa: S608
            f"previous_assigned_at) SELECT l.id, l.assigned_to_id, m.to_user_id, %s, %s, %s, %s, l.version + 1, "
            f"l.assigned_at FROM {moving} JOIN {lead_table} l ON l.id = m.lead_id WHERE l.id = ANY(%s::bigint[])",
            [by_id, at, method, batch_id, lead_ids, owner_ids, lead_ids],
        )
        cursor.execute(
            f"UPDATE {lead_table} l SET assigned_to_id = m.to_user_id, "  # noqa: S608
            f"assigned_at = CASE WHEN m.to_user_id IS NULL THEN NULL ELSE %s::timestamptz END, version = l.version + 1 "
            f"FROM {moving} WHERE l.id = m.lead_id AND l.id = ANY(%s::bigint[])",
            [at, lead_ids, owner_ids, lead_ids],
        )
        return cursor.rowcount


@contextmanager
def history_written():
    """Tell the database's owner-history trigger (leads migration 0009) that the Assignment rows of these
    UPDATEs are written already (insert_history). PostgreSQL only; SQLite's row trigger finds them itself."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('crm.owner_history_written', 'on', true)")
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('crm.owner_history_written', 'off', true)")
