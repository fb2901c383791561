"""Two people drop cards between the same two cards at the same moment (PostgreSQL: real row locks, real
threads). Moves into one column take turns on the column's stage row, so the second sees the room the
first one made and both cards land between their neighbours."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from crm.leads import board
from crm.leads.models import Lead, Stage, StatusChange
from tests.factories import LeadFactory, UserFactory, stage_named

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),  # the stages come back through the default_pipeline fixture
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_simultaneous_drops_between_the_same_cards_both_land_between_them():
    manager = UserFactory(role="manager", email="race-manager@example.com")
    new, valid = stage_named("New"), stage_named("Valid")
    above = LeadFactory(name="Above", stage=valid, rank=0)
    below = LeadFactory(name="Below", stage=valid, rank=0)  # a tie: no room between them without a shift
    movers = [LeadFactory(name=f"Mover {i}", stage=new) for i in range(2)]
    results, errors = [], []

    def drop(lead):
        try:
            results.append(board.lead_move(by=manager, lead_uuid=lead.uuid, stage_id=valid.pk, version=1,
                                           before=above.uuid, after=below.uuid))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Stage.objects.select_for_update(no_key=True).get(pk=valid.pk)  # hold the column while both arrive
        threads = [threading.Thread(target=drop, args=(lead,)) for lead in movers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0] >= 2:
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"the moves never waited for the column ({errors!r})")
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    order = list(Lead.objects.filter(stage=valid).order_by("rank", "pk").values_list("name", flat=True))
    assert order[0] == "Above" and order[-1] == "Below" and sorted(order[1:3]) == ["Mover 0", "Mover 1"]
    assert StatusChange.objects.filter(to_stage=valid).count() == 2
