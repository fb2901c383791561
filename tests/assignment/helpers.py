"""Helpers for the assignment tests."""

import pytest
from django.db import connection


def owners_of(lead_list) -> dict:
    from crm.leads.models import Lead

    return dict(Lead.objects.filter(pk__in=[lead.pk for lead in lead_list]).values_list("pk", "assigned_to_id"))


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
