"""The PostgreSQL settings the bulk statements run under (crm.assignment.services._sql.by_primary_key)."""

import pytest
from django.db import connection, transaction

from crm.assignment.services._sql import by_primary_key
from crm.core.sql import id_array

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings"),
]


def settings() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('jit')")
        return cursor.fetchone()


def test_leads_listed_by_id_are_read_through_the_primary_key_and_the_settings_come_back():
    ids = id_array(range(1, 200_001, 4))
    with transaction.atomic():
        before = settings()
        with by_primary_key(), connection.cursor() as cursor:
            assert settings() == ("off", "off")
            # the test's near-empty table would otherwise be scanned whole
            cursor.execute("EXPLAIN SELECT id, version FROM leads_lead WHERE id = ANY(%s::bigint[]) ORDER BY id", [ids])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "leads_lead_pkey" in plan and "Seq Scan" not in plan
        assert settings() == before
