"""The list's searches and sorts are served by indexes on PostgreSQL (the 1,000,000-lead budget depends on it).
The planner is told to avoid sequential scans and sorts, so a missing or unmatchable index shows in the plan."""

import pytest
from django.db import connection
from django.http import QueryDict

from crm.leads.filters import LeadFilter
from crm.leads.listing import ordering_for
from crm.leads.models import Lead

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes"),
]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def filtered(query: str):
    return LeadFilter(QueryDict(query), queryset=Lead.objects.all()).qs


@pytest.mark.parametrize("query, index", [
    ("q=anit", "lead_name_trgm"),
    ("q=kakk", "lead_area_trgm"),
    ("q=98765", "lead_phone_trgm"),
    ("q=gmail.co@", "lead_email_trgm"),
    ("q=anita@example.com", "lead_email_lower"),
    ("q=098765+43210", "leads_lead_phone_"),
    ("city=kochi", "lead_city_ci"),
    ("interest=mba", "lead_interest_ci"),
])
def test_search_and_filters_use_their_index(query, index):
    assert index in plan(filtered(query).order_by().values("pk"))


@pytest.mark.parametrize("sort, index", [
    ("-updated", "lead_updated"),
    ("-last_contacted", "lead_last_contact"),
    ("last_contacted", "lead_last_contact"),
    ("next_follow_up", "lead_next_follow_up"),
    ("name", "lead_name"),
])
def test_sorts_are_read_from_an_index(sort, index):
    text = plan(Lead.objects.order_by(*ordering_for(sort)).values("pk")[:26])
    assert index in text and "Sort" not in text.replace("Incremental Sort", "")


@pytest.mark.parametrize("table", ["leads_lead", "leads_statuschange", "assignment_assignment"])
def test_no_index_is_a_prefix_of_another(table):
    """Every row written pays for every index: one whose columns start another's serves nothing the longer
    one does not (unique indexes excepted: they enforce something)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, indisunique, string_agg(a.attname || ':' || k.ord, ',' ORDER BY k.ord) "
            "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indexprs IS NULL GROUP BY 1, 2",
            [table],
        )
        indexes = [(name, unique, [c.split(":")[0] for c in columns.split(",")]) for name, unique, columns in cursor.fetchall()]
    redundant = [
        (name, other)
        for name, unique, columns in indexes if not unique
        for other, _, longer in indexes
        if other != name and len(longer) > len(columns) and longer[: len(columns)] == columns
    ]
    assert redundant == []


def test_a_bulk_actions_history_rows_are_found_through_the_brin_index():
    """Undo and the recent actions' counts find a batch's rows through a BRIN index (crm.core.models.BrinIndex),
    which a bulk action of 50,000 leads keeps up for next to nothing."""
    from crm.assignment.models import Assignment

    with connection.cursor() as cursor:
        cursor.execute("SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE relname = 'assignment_batch_brin'")
        assert cursor.fetchone() == ("brin",)
    assert "assignment_batch_brin" in plan(Assignment.objects.filter(batch_id=1).order_by().values("lead_id"))
