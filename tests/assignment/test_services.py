from collections import Counter

import pytest
from django.utils import timezone

from crm.assignment.models import Assignment, AssignmentBatch, Method, StageMove
from crm.assignment.services import (
    AssignmentError,
    OwnerChanged,
    batch_undo,
    lead_assign,
    leads_assign,
    leads_assign_next,
    leads_distribute,
    leads_stage_change,
    leads_unassign,
)
from crm.leads.models import Lead, StatusChange
from crm.leads.selectors import leads_visible_to
from crm.leads.services import lead_change_status
from tests.factories import LeadFactory, stage_named

from .helpers import owners_of

pytestmark = pytest.mark.django_db


def counts(lead_list):
    return Counter(owners_of(lead_list).values())


# --- balanced distribution ----------------------------------------------------------------------


def test_distribute_splits_evenly_and_writes_one_history_row_per_lead(manager, counsellor, leads):
    a, b, c = counsellor("Anu A"), counsellor("Binu B"), counsellor("Chinnu C")
    batch_leads = leads(10)

    batch = leads_distribute(lead_ids=[lead.pk for lead in batch_leads], by=manager)

    per_user = counts(batch_leads)
    assert sum(per_user.values()) == 10 and None not in per_user
    assert set(per_user) == {a.pk, b.pk, c.pk}
    assert max(per_user.values()) - min(per_user.values()) == 1
    assert batch.method == Method.DISTRIBUTE and batch.count == 10 and batch.summary["left_unassigned"] == 0
    assert {row["id"]: row["count"] for row in batch.summary["per_user"]} == dict(per_user)
    history = Assignment.objects.filter(batch=batch)
    assert history.count() == 10
    assert set(history.values_list("method", flat=True)) == {"distribute"}
    assert all(row.from_user_id is None and row.by_id == manager.pk for row in history)
    assert {row.lead_id: row.to_user_id for row in history} == owners_of(batch_leads)


def test_counsellors_with_fewer_open_leads_get_the_extra_ones(manager, counsellor, leads):
    busy, idle, middling = counsellor("Busy B"), counsellor("Idle I"), counsellor("Middling M")
    leads(5, assigned_to=busy)
    leads(2, assigned_to=middling)
    leads(9, assigned_to=idle, stage=stage_named("Admission"))  # won leads are not workload
    new = leads(5)

    leads_distribute(lead_ids=[lead.pk for lead in new], by=manager)

    assert counts(new) == {idle.pk: 2, middling.pk: 2, busy.pk: 1}


def test_leads_being_redistributed_do_not_count_as_their_owners_workload(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    theirs = leads(3, assigned_to=a)
    leads(1, assigned_to=b)

    batch = leads_distribute(lead_ids=[lead.pk for lead in theirs], by=manager)

    # a holds 0 other open leads, b holds 1: a gets the extra lead, and keeps two of its own (no pointless moves)
    assert counts(theirs) == {a.pk: 2, b.pk: 1}
    assert batch.count == 1 and batch.summary["unchanged"] == 2
    assert Assignment.objects.filter(batch=batch).count() == 1


def test_capacity_is_respected_and_the_leftover_stays_unassigned(manager, counsellor, leads):
    small = counsellor("Small S", capacity=3)
    roomy = counsellor("Roomy R", capacity=4)
    leads(2, assigned_to=small)  # room for 1 more
    new = leads(8)

    batch = leads_distribute(lead_ids=[lead.pk for lead in new], by=manager)

    assert counts(new) == {small.pk: 1, roomy.pk: 4, None: 3}
    assert batch.summary["left_unassigned"] == 3
    assert Assignment.objects.filter(batch=batch).count() == 5
    full = {row["name"]: row["full"] for row in batch.summary["per_user"]}
    assert full == {"Small S": False, "Roomy R": False}


def test_nobody_at_capacity_gets_more_and_uncapped_counts_stay_within_one(manager, counsellor, leads):
    full = counsellor("Full F", capacity=2)
    leads(2, assigned_to=full)
    x, y = counsellor("Xavier X"), counsellor("Yamuna Y")
    new = leads(5)

    batch = leads_distribute(lead_ids=[lead.pk for lead in new], by=manager)

    per_user = counts(new)
    assert full.pk not in per_user
    assert sorted(per_user.values()) == [2, 3] and set(per_user) == {x.pk, y.pk}
    assert [row for row in batch.summary["per_user"] if row["id"] == full.pk][0]["full"] is True


def test_unavailable_inactive_and_non_sales_users_never_get_leads(manager, admin_user, counsellor, leads):
    ok = counsellor("Okay O")
    on_leave = counsellor("Leave L", is_available=False)
    gone = counsellor("Gone G", is_active=False)
    new = leads(6)

    default = leads_distribute(lead_ids=[lead.pk for lead in new[:3]], by=manager)
    chosen = leads_distribute(
        lead_ids=[lead.pk for lead in new[3:]], by=manager, counsellors=[ok, on_leave, gone, manager, admin_user]
    )

    assert counts(new) == {ok.pk: 6}
    assert default.summary["skipped_users"] == []
    reasons = {row["name"]: row["reason"] for row in chosen.summary["skipped_users"]}
    assert reasons == {"Leave L": "on leave", "Gone G": "inactive", str(manager): "not a sales user",
                       str(admin_user): "not a sales user"}


def test_no_available_counsellor_leaves_everything_unassigned(manager, counsellor, leads):
    counsellor("Leave L", is_available=False)
    new = leads(4)

    batch = leads_distribute(lead_ids=[lead.pk for lead in new], by=manager)

    assert counts(new) == {None: 4}
    assert batch.count == 0 and batch.summary["left_unassigned"] == 4


def test_same_state_gives_the_same_result(manager, counsellor, leads):
    people = [counsellor(f"Person {n}") for n in range(4)]
    leads(3, assigned_to=people[2])
    new = leads(11)
    ids = [lead.pk for lead in new]

    first = leads_distribute(lead_ids=ids, by=manager)
    first_owners = owners_of(new)
    batch_undo(batch=first, by=manager)
    assert set(owners_of(new).values()) == {None}
    second = leads_distribute(lead_ids=list(reversed(ids)), by=manager, counsellors=list(reversed(people)))

    assert owners_of(new) == first_owners
    assert second.summary["per_user"] == first.summary["per_user"]


def test_import_method_is_recorded(manager, counsellor, leads):
    counsellor("Anu A")
    new = leads(2)
    batch = leads_distribute(lead_ids=Lead.objects.filter(pk__in=[lead.pk for lead in new]), by=manager, method="import")
    assert set(Assignment.objects.filter(batch=batch).values_list("method", flat=True)) == {"import"}


# --- one counsellor, unassign, next N -------------------------------------------------------------


def test_bulk_assign_reassigns_and_records_previous_owners(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    mine = leads(2, assigned_to=a)
    already = leads(1, assigned_to=b)
    free = leads(2)

    batch = leads_assign(lead_ids=[lead.pk for lead in mine + already + free], to_user=b, by=manager)

    assert counts(mine + already + free) == {b.pk: 5}
    assert batch.count == 4 and batch.summary["unchanged"] == 1
    history = Assignment.objects.filter(batch=batch)
    assert Counter(history.values_list("from_user_id", flat=True)) == {a.pk: 2, None: 2}
    assert {row.method for row in history} == {"bulk"}
    assert {row["name"]: row["count"] for row in batch.summary["taken_from"]} == {"Anu A": 2, "Unassigned": 2}
    for lead in Lead.objects.filter(pk__in=[x.pk for x in mine + free]):
        assert lead.assigned_at is not None and lead.version == 2


def test_bulk_unassign(manager, counsellor, leads):
    a = counsellor("Anu A")
    mine = leads(3, assigned_to=a, assigned_at=timezone.now())

    batch = leads_unassign(lead_ids=[lead.pk for lead in mine], by=manager)

    assert counts(mine) == {None: 3}
    assert set(Lead.objects.filter(pk__in=[x.pk for x in mine]).values_list("assigned_at", flat=True)) == {None}
    assert batch.method == "unassign"
    assert set(Assignment.objects.filter(batch=batch).values_list("from_user_id", "to_user_id", "method")) == {
        (a.pk, None, "unassign")
    }


def test_assign_target_must_be_an_active_sales_user(manager, counsellor, leads):
    gone = counsellor("Gone G", is_active=False)
    new = leads(2)
    for target in (gone, manager):
        with pytest.raises(AssignmentError):
            leads_assign(lead_ids=[lead.pk for lead in new], to_user=target, by=manager)
        with pytest.raises(AssignmentError):
            lead_assign(lead=new[0], to_user=target, by=manager)
    assert counts(new) == {None: 2}
    assert not Assignment.objects.exists() and not AssignmentBatch.objects.exists()


def test_next_n_takes_the_oldest_or_newest_unassigned(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    new = leads(6)
    for offset, lead in enumerate(new):  # created one day apart, oldest first
        Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timezone.timedelta(days=10 - offset))
    Lead.objects.filter(pk=new[1].pk).update(assigned_to=b)

    oldest = leads_assign_next(to_user=a, n=2, by=manager)
    newest = leads_assign_next(to_user=b, n=2, by=manager, newest_first=True)
    rest = leads_assign_next(to_user=a, n=500, by=manager)

    owners = owners_of(new)
    assert [owners[lead.pk] for lead in new] == [a.pk, b.pk, a.pk, a.pk, b.pk, b.pk]
    assert (oldest.method, oldest.count, newest.count) == ("next_n", 2, 2)
    assert rest.count == 1 and rest.summary["available"] == 1 and rest.summary["n"] == 500


# --- one lead -------------------------------------------------------------------------------------


def test_lead_assign_reassign_unassign_write_history(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    (lead,) = leads(1)

    lead = lead_assign(lead=lead, to_user=a, by=manager)
    first_at = lead.assigned_at
    lead = lead_assign(lead=lead, to_user=b, by=manager)
    lead = lead_assign(lead=lead, to_user=None, by=manager)
    same = lead_assign(lead=lead, to_user=None, by=manager)

    assert same.assigned_to is None and same.assigned_at is None and first_at is not None
    rows = list(Assignment.objects.filter(lead=lead).order_by("id").values_list("from_user_id", "to_user_id", "method", "batch"))
    assert rows == [(None, a.pk, "manual", None), (a.pk, b.pk, "manual", None), (b.pk, None, "manual", None)]


def test_lead_assign_refuses_when_the_owner_changed_meanwhile(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    (lead,) = leads(1, assigned_to=a)

    with pytest.raises(OwnerChanged) as raised:
        lead_assign(lead=lead, to_user=b, by=manager, expected_owner=None)

    assert raised.value.lead.assigned_to == a
    assert owners_of([lead]) == {lead.pk: a.pk}
    assert list(Assignment.objects.values_list("method", flat=True)) == ["manual"]  # only the lead's creation
    lead_assign(lead=lead, to_user=b, by=manager, expected_owner=a.pk)
    assert owners_of([lead]) == {lead.pk: b.pk}


# --- stale views ----------------------------------------------------------------------------------


def test_leads_whose_owner_changed_since_the_preview_are_skipped_and_listed(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    new = leads(4)
    seen = {lead.pk: None for lead in new}
    lead_assign(lead=new[1], to_user=b, by=manager)  # someone else, after the preview

    batch = leads_distribute(lead_ids=list(seen), by=manager, counsellors=[a], expected_owners=seen)

    assert owners_of(new) == {new[0].pk: a.pk, new[1].pk: b.pk, new[2].pk: a.pk, new[3].pk: a.pk}
    assert batch.summary["stale"]["count"] == 1
    assert batch.summary["stale"]["leads"] == [{"uuid": str(new[1].uuid), "name": str(new[1]), "owner": "Binu B"}]
    assert batch.count == 3


# --- undo -----------------------------------------------------------------------------------------


def test_undo_restores_previous_owners_and_assigned_at(manager, counsellor, leads):
    a, b, c = counsellor("Anu A"), counsellor("Binu B"), counsellor("Chinnu C")
    earlier = timezone.now() - timezone.timedelta(days=3)
    theirs = leads(2, assigned_to=a, assigned_at=earlier)
    free = leads(4)
    before = owners_of(theirs + free)

    batch = leads_assign(lead_ids=[lead.pk for lead in theirs + free], to_user=c, by=manager)
    summary = batch_undo(batch=batch, by=manager)

    assert owners_of(theirs + free) == before
    restored = {lead.pk: lead.assigned_at for lead in Lead.objects.filter(pk__in=[x.pk for x in theirs + free])}
    assert all(restored[lead.pk] == earlier for lead in theirs)
    assert all(restored[lead.pk] is None for lead in free)
    assert summary["changed"] == 6 and summary["not_undone"] == 0
    batch.refresh_from_db()
    assert batch.undone_at is not None and batch.undone_by == manager
    undo_rows = Assignment.objects.filter(batch=batch.undo_batch)
    assert Counter(undo_rows.values_list("from_user_id", "to_user_id", "method")) == {
        (c.pk, a.pk, "undo"): 2, (c.pk, None, "undo"): 4
    }
    with pytest.raises(AssignmentError):
        batch_undo(batch=batch, by=manager)
    assert b.pk not in owners_of(theirs + free).values()


def test_undo_leaves_leads_touched_since_and_says_why(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    new = leads(5)
    batch = leads_distribute(lead_ids=[lead.pk for lead in new], by=manager, counsellors=[a])
    lead_change_status(lead=new[0], stage=stage_named("Interested"), by=a)  # edited since
    lead_assign(lead=new[1], to_user=b, by=manager)  # reassigned since

    summary = batch_undo(batch=batch, by=manager)

    assert owners_of(new) == {new[0].pk: a.pk, new[1].pk: b.pk, new[2].pk: None, new[3].pk: None, new[4].pk: None}
    assert summary["changed"] == 3 and summary["not_undone"] == 2
    assert {row["key"]: row["count"] for row in summary["reasons"]} == {"owner_changed": 1, "edited": 1}


def test_undo_skips_leads_whose_previous_owner_is_inactive(manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    mine = leads(2, assigned_to=a)
    batch = leads_assign(lead_ids=[lead.pk for lead in mine], to_user=b, by=manager)
    a.is_active = False
    a.save(update_fields=["is_active"])

    summary = batch_undo(batch=batch, by=manager)

    assert counts(mine) == {b.pk: 2}
    assert summary["reasons"][0]["key"] == "owner_inactive" and summary["reasons"][0]["count"] == 2


def test_bulk_stage_change_writes_status_changes_and_undoes(manager, counsellor, leads):
    new_stage, interested, valid = stage_named("New"), stage_named("Interested"), stage_named("Valid")
    fresh = leads(3)
    valid_leads = leads(2, stage=valid)
    already = leads(1, stage=interested)
    everyone = fresh + valid_leads + already

    batch = leads_stage_change(lead_ids=[lead.pk for lead in everyone], stage=interested, by=manager, note="Bulk")

    assert set(Lead.objects.filter(pk__in=[x.pk for x in everyone]).values_list("stage", flat=True)) == {interested.pk}
    assert StatusChange.objects.filter(to_stage=interested, by=manager).count() == 5
    assert batch.method == "stage" and batch.count == 5 and batch.summary["unchanged"] == 1
    assert StageMove.objects.filter(batch=batch).count() == 5
    lead_change_status(lead=fresh[0], stage=valid, by=manager)  # touched since

    summary = batch_undo(batch=batch, by=manager)

    stages = dict(Lead.objects.filter(pk__in=[x.pk for x in everyone]).values_list("pk", "stage"))
    assert [stages[lead.pk] for lead in everyone] == [
        valid.pk, new_stage.pk, new_stage.pk, valid.pk, valid.pk, interested.pk
    ]
    assert summary["changed"] == 4 and summary["not_undone"] == 1
    assert StatusChange.objects.filter(note=f"Undo of bulk stage change #{batch.pk}").count() == 4
    assert not Assignment.objects.exists()


def test_an_undo_cannot_be_undone(manager, counsellor, leads):
    a = counsellor("Anu A")
    new = leads(1)
    batch = leads_assign(lead_ids=[new[0].pk], to_user=a, by=manager)
    batch_undo(batch=batch, by=manager)
    batch.refresh_from_db()
    with pytest.raises(AssignmentError):
        batch_undo(batch=batch.undo_batch, by=manager)


def test_history_is_written_for_leads_assigned_through_the_lead_factory_path_too(manager, counsellor):
    """A lead that belonged to someone before any Assignment row existed still gets a correct from_user."""
    a, b = counsellor("Anu A"), counsellor("Binu B")
    lead = LeadFactory(assigned_to=a)
    leads_assign(lead_ids=[lead.pk], to_user=b, by=manager)
    assert list(Assignment.objects.filter(method="bulk").values_list("from_user", "to_user", "version")) == [(a.pk, b.pk, 2)]


def test_bulk_stage_change_larger_than_one_sqlite_chunk(manager, leads, monkeypatch):
    monkeypatch.setattr("crm.core.sql.SQLITE_CHUNK", 2)
    batch_leads = leads(5)
    interested = stage_named("Interested")

    batch = leads_stage_change(lead_ids=[lead.pk for lead in batch_leads], stage=interested, by=manager)
    assert batch.count == 5
    assert batch_undo(batch=batch, by=manager)["changed"] == 5
    assert set(Lead.objects.filter(pk__in=[x.pk for x in batch_leads]).values_list("stage__name", flat=True)) == {"New"}


def test_the_database_records_owner_changes_made_outside_the_services(manager, counsellor):
    """Leads created with an owner, and owners changed by a plain UPDATE (the admin, a script), get their
    Assignment row from the database, so owner-scoped pages (crm.leads.owners) always find them."""
    a, b = counsellor("Anu A"), counsellor("Binu B")
    lead = LeadFactory(assigned_to=a, created_by=manager)
    assert list(Assignment.objects.values_list("from_user", "to_user", "by", "method")) == [(None, a.pk, manager.pk, "manual")]

    Lead.objects.filter(pk=lead.pk).update(assigned_to=b)
    other = Assignment.objects.get(method="other")
    assert (other.from_user_id, other.to_user_id, other.by_id, other.version) == (a.pk, b.pk, None, 1)
    assert list(leads_visible_to(b)) == [lead] and not leads_visible_to(a).exists()

    # The services write their own rows, with who and how: the database adds none.
    leads_assign(lead_ids=[lead.pk], to_user=a, by=manager)
    assert Assignment.objects.count() == 3 and Assignment.objects.filter(method="bulk", by=manager).count() == 1
    assert list(leads_visible_to(a)) == [lead] and not leads_visible_to(b).exists()
