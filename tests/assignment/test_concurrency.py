"""Two managers acting on overlapping leads at the same moment (PostgreSQL: real row locks, real threads).

The main thread holds a row lock on one lead that both bulk actions need, waits until both are blocked on
it, then lets go: both run into each other for real, whatever the scheduling."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from crm.assignment.models import Assignment, AssignmentBatch
from crm.assignment.services import assign as assign_service
from crm.assignment.services import batch_undo, leads_assign, leads_assign_next, leads_distribute
from crm.leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),  # the stages come back through the default_pipeline fixture
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def run_together(*jobs, hold_pk):
    """Run the jobs in threads while this thread holds the row lock of lead `hold_pk`; release it once
    every job is waiting for a lock. Returns the jobs' results (or raises the first error)."""
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Lead.objects.select_for_update().get(pk=hold_pk)
        threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is cached per transaction otherwise
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0] >= len(jobs):
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"the bulk actions never waited for the lock ({errors!r})")
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def history_is_complete(leads):
    """Each lead's Assignment rows form an unbroken chain from nobody to its current owner."""
    owners = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "assigned_to_id"))
    for lead in leads:
        chain = list(Assignment.objects.filter(lead=lead).order_by("id").values_list("from_user_id", "to_user_id"))
        previous = None
        for from_user, to_user in chain:
            assert from_user == previous, (lead.pk, chain)
            previous = to_user
        assert previous == owners[lead.pk], (lead.pk, chain, owners[lead.pk])


@pytest.fixture
def people():
    return {
        "m1": UserFactory(role="manager", email="m1@example.com"),
        "m2": UserFactory(role="manager", email="m2@example.com"),
        "a": UserFactory(role="sales", email="a@example.com"),
        "b": UserFactory(role="sales", email="b@example.com"),
        "c": UserFactory(role="sales", email="c@example.com"),
    }


def test_overlapping_bulk_actions_from_stale_previews_skip_and_name_what_changed(people):
    leads = sorted(LeadFactory.create_batch(60), key=lambda lead: lead.pk)
    first, second = [lead.pk for lead in leads[:40]], [lead.pk for lead in leads[20:]]
    seen_first, seen_second = dict.fromkeys(first), dict.fromkeys(second)  # both previews saw them unassigned

    batches = run_together(
        lambda: leads_assign(lead_ids=first, to_user=people["a"], by=people["m1"], expected_owners=seen_first),
        lambda: leads_distribute(lead_ids=second, by=people["m2"], counsellors=[people["b"], people["c"]],
                                 expected_owners=seen_second),
        hold_pk=leads[20].pk,
    )

    later, earlier = sorted(batches, key=lambda batch: batch.summary["stale"]["count"], reverse=True)
    overlap = {lead.pk for lead in leads[20:40]}
    assert earlier.summary["stale"]["count"] == 0 and earlier.count == 40
    assert later.summary["stale"]["count"] == 20 and later.count == 20
    assert {lead["uuid"] for lead in later.summary["stale"]["leads"]} == {str(lead.uuid) for lead in leads[20:40]}
    # every overlapping lead was changed exactly once, by whoever came first
    assert Assignment.objects.filter(lead_id__in=overlap).count() == 20
    assert Assignment.objects.count() == 60
    assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], assigned_to__isnull=True).count() == 0
    history_is_complete(leads)


def test_overlapping_bulk_actions_without_previews_end_consistent(people):
    leads = sorted(LeadFactory.create_batch(50), key=lambda lead: lead.pk)
    first, second = [lead.pk for lead in leads[:30]], [lead.pk for lead in leads[10:]]

    run_together(
        lambda: leads_assign(lead_ids=first, to_user=people["a"], by=people["m1"]),
        lambda: leads_distribute(lead_ids=second, by=people["m2"], counsellors=[people["b"], people["c"]]),
        lambda: leads_assign(lead_ids=list(reversed(second)), to_user=people["c"], by=people["m1"]),
        hold_pk=leads[10].pk,
    )

    assert AssignmentBatch.objects.count() == 3
    history_is_complete(leads)


def test_two_managers_taking_the_next_n_get_different_leads(people):
    """Manager 1's "next 30" is still in flight (rows locked, not committed) while manager 2 asks for the
    next 30: manager 2 gets the 20 others at once instead of waiting or taking the same leads."""
    leads = LeadFactory.create_batch(50)
    second = {}

    def other_manager():
        try:
            second["batch"] = leads_assign_next(to_user=people["b"], n=30, by=people["m2"])
        finally:
            connections.close_all()

    with transaction.atomic():
        first = leads_assign_next(to_user=people["a"], n=30, by=people["m1"])
        thread = threading.Thread(target=other_manager)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "manager 2 waited for manager 1's leads instead of skipping them"

    assert (first.count, second["batch"].count) == (30, 20)
    assert Assignment.objects.count() == 50 and Assignment.objects.values("lead").distinct().count() == 50
    assert not Lead.objects.filter(assigned_to__isnull=True).exists()
    history_is_complete(leads)


def locking(queries) -> bool:
    return any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)


def test_bulk_actions_lock_no_rows_unless_another_writer_gets_in_between(people, monkeypatch):
    """Uncontended, a bulk action reads its leads without locking them; when another manager changes one of
    them between that read and the move, the move is rolled back and redone with the rows locked, and the
    change is reported as stale. Nothing of the first attempt is left behind."""
    leads = sorted(LeadFactory.create_batch(10), key=lambda lead: lead.pk)
    ids = [lead.pk for lead in leads]

    with CaptureQueriesContext(connection) as queries:
        first = leads_assign(lead_ids=ids[:5], to_user=people["a"], by=people["m1"])
    assert first.count == 5 and not locking(queries)

    raced, started, real_split = [], [], assign_service.split_stale

    def other_manager():
        try:
            raced.append(leads_assign(lead_ids=[ids[5]], to_user=people["b"], by=people["m2"]))
        finally:
            connections.close_all()

    def split_then_race(rows, expected_owners):
        if not started:  # the other manager commits right after this action has read its leads
            started.append(True)
            thread = threading.Thread(target=other_manager)
            thread.start()
            thread.join(30)
            assert raced, "the other manager's assignment did not run"
        return real_split(rows, expected_owners)

    monkeypatch.setattr(assign_service, "split_stale", split_then_race)
    with CaptureQueriesContext(connection) as queries:
        batch = leads_assign(lead_ids=ids[5:], to_user=people["c"], by=people["m1"], expected_owners=dict.fromkeys(ids[5:]))

    assert locking(queries)
    assert batch.count == 4 and batch.summary["stale"]["count"] == 1
    assert batch.summary["stale"]["leads"][0]["uuid"] == str(leads[5].uuid)
    owners = dict(Lead.objects.filter(pk__in=ids).values_list("pk", "assigned_to_id"))
    assert [owners[pk] for pk in ids] == [people["a"].pk] * 5 + [people["b"].pk] + [people["c"].pk] * 4
    assert AssignmentBatch.objects.count() == 3 and Assignment.objects.count() == 10
    history_is_complete(leads)

    undo = batch_undo(batch=batch, by=people["m1"])  # uncontended again: no locks on the leads
    assert undo["changed"] == 4
    assert Lead.objects.filter(pk__in=ids[6:], assigned_to__isnull=True).count() == 4
    history_is_complete(leads)


def test_a_bulk_action_that_deadlocks_with_another_writer_runs_again_with_locks(people):
    """The unlocked move takes its row locks as the UPDATE reaches each lead (pk order). Another writer
    holding lead 2 and then asking for lead 1 deadlocks with it; PostgreSQL aborts the move (its wait began
    first, and its deadlock_timeout is the shorter), the savepoint is rolled back and the action runs again
    with the rows locked first, once the other writer is done."""
    leads = sorted(LeadFactory.create_batch(3), key=lambda lead: lead.pk)
    ids = [lead.pk for lead in leads]
    result, errors = {}, []

    def manager():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET deadlock_timeout = '100ms'")
            with CaptureQueriesContext(connection) as queries:
                result["batch"] = leads_assign(lead_ids=ids, to_user=people["a"], by=people["m1"])
            result["locked"] = locking(queries)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Lead.objects.select_for_update().get(pk=ids[1])
        thread = threading.Thread(target=manager)
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the move holds lead 1 and waits for lead 2
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"the bulk action never waited for lead 2 ({errors!r})")
        Lead.objects.filter(pk=ids[0]).update(name="Changed by the other writer")  # waits for lead 1: deadlock
    thread.join(30)

    assert not errors, errors
    assert result["batch"].count == 3 and result["locked"]
    assert set(Lead.objects.filter(pk__in=ids).values_list("assigned_to_id", flat=True)) == {people["a"].pk}
    assert Lead.objects.get(pk=ids[0]).name == "Changed by the other writer"
    assert AssignmentBatch.objects.count() == 1 and Assignment.objects.count() == 3
    history_is_complete(leads)
