"""SQL helpers shared by the set-based services (bulk assignment, stage changes, import revert): a list of
ids bound as one array parameter on PostgreSQL instead of one parameter per id."""

from django.db import connection
from django.db.models import BooleanField, Expression, F

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
        sql, id_params = ids_sql(lhs, self.ids, vendor=connection.vendor)
        return sql, (*params, *id_params)


def ids_sql(column: str, ids, *, vendor: str | None = None) -> tuple[str, list]:
    """(sql, params) for `column IN (ids)` in hand-written SQL: one array parameter on PostgreSQL, a plain IN
    list elsewhere."""
    ids = list(ids)
    if (vendor or connection.vendor) == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [id_array(ids)]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def chunked(ids):
    """One chunk on PostgreSQL (an array parameter has no size limit), SQLITE_CHUNK-sized ones elsewhere."""
    ids = list(ids)
    if not ids:
        return
    size = len(ids) if connection.vendor == "postgresql" else SQLITE_CHUNK
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
