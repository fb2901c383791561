"""The stage tally under concurrent writers (PostgreSQL: real row locks, real threads)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from crm.leads import tally
from crm.leads.models import Lead
from tests.factories import LeadFactory, stage_named

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),  # the stages come back through the default_pipeline fixture
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_concurrent_writers_never_wait_for_each_other_on_the_tally_and_sum_right():
    """Two transactions change leads of the same (owner, stage) at once: with delta rows neither blocks on
    a counter row, and after both commit the tally matches the leads."""
    new, valid = stage_named("New"), stage_named("Valid")
    first, second = LeadFactory(stage=new), LeadFactory(stage=new)
    inside, release = threading.Event(), threading.Event()
    errors = []

    def hold_open():
        try:
            with transaction.atomic():
                Lead.objects.filter(pk=first.pk).update(stage=valid)
                inside.set()
                release.wait(10)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_open)
    thread.start()
    assert inside.wait(10)
    Lead.objects.filter(pk=second.pk).update(stage=valid)  # would block here on a shared counter row
    release.set()
    thread.join(10)
    assert not errors
    assert tally.stage_totals(tally.EVERYONE) == {valid.pk: (2, Decimal(0))}
    assert tally.tally_differences() == []
