"""The stage tally: triggers keep leads and deal value per (owner, stage) right through every kind of write,
and readers get the same answers as counting the leads."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from crm.assignment.services import batch_undo, leads_assign, leads_distribute
from crm.leads import tally
from crm.leads.models import Lead, StageTally
from crm.leads.services import lead_change_status
from tests.factories import LeadFactory, UserFactory, stage_named

pytestmark = pytest.mark.django_db


def totals_by_counting(owner):
    leads = Lead.objects.all()
    if owner == tally.UNASSIGNED:
        leads = leads.filter(assigned_to__isnull=True)
    elif owner != tally.EVERYONE:
        leads = leads.filter(assigned_to_id=owner)
    result = {}
    for lead in leads:
        n, value = result.get(lead.stage_id, (0, Decimal(0)))
        result[lead.stage_id] = (n + 1, value + (lead.value or 0))
    return result


def assert_tally_right(*owners):
    assert tally.tally_differences() == []
    for owner in (tally.EVERYONE, tally.UNASSIGNED, *owners):
        assert tally.stage_totals(owner) == totals_by_counting(owner), owner


def test_the_tally_follows_creates_edits_moves_and_deletes(manager):
    new, valid, won = stage_named("New"), stage_named("Valid"), stage_named("Admission")
    ana, ben = UserFactory(role="sales"), UserFactory(role="sales")
    a = LeadFactory(stage=new, value=Decimal("100.50"), assigned_to=ana)
    b = LeadFactory(stage=new, value=None)
    LeadFactory(stage=valid, value=Decimal(7), assigned_to=ben)
    assert tally.stage_totals(tally.EVERYONE) == {new.pk: (2, Decimal("100.50")), valid.pk: (1, Decimal(7))}
    assert tally.stage_totals(ana.pk) == {new.pk: (1, Decimal("100.50"))}
    assert tally.stage_totals(tally.UNASSIGNED) == {new.pk: (1, Decimal(0))}

    lead_change_status(lead=a, stage=won, by=manager, version=a.version, extra_updates={"value": Decimal(900)})
    b.value, b.assigned_to = Decimal(3), ben
    b.save()
    assert_tally_right(ana.pk, ben.pk)
    Lead.objects.filter(pk=a.pk).delete()
    ben_id = ben.pk
    ben.delete()  # his leads become unassigned (SET_NULL): an UPDATE the triggers see
    assert_tally_right(ana.pk, ben_id)
    assert tally.stage_totals(ben_id) == {}


def test_bulk_writes_are_tallied_set_by_set(manager):
    new, valid = stage_named("New"), stage_named("Valid")
    people = [UserFactory(role="sales") for _ in range(3)]
    Lead.objects.bulk_create(
        [Lead(name=f"L{i}", phone=f"+9198{i:08d}", stage=new if i % 3 else valid, value=Decimal(i)) for i in range(90)]
    )
    ids = list(Lead.objects.values_list("pk", flat=True))
    batch = leads_distribute(lead_ids=ids, by=manager, counsellors=people)
    assert_tally_right(*(p.pk for p in people))
    batch_undo(batch=batch, by=manager)
    assert_tally_right(*(p.pk for p in people))
    leads_assign(lead_ids=ids[:10], to_user=people[0], by=manager)
    Lead.objects.filter(pk__in=ids[10:40]).update(stage=valid, value=None)
    assert_tally_right(*(p.pk for p in people))


def test_compaction_folds_the_delta_rows_and_keeps_the_sums(manager, monkeypatch):
    new, valid = stage_named("New"), stage_named("Valid")
    lead = LeadFactory(stage=new, value=Decimal(5))
    for _ in range(5):
        for stage in (valid, new):
            lead.refresh_from_db()
            lead_change_status(lead=lead, stage=stage, by=manager, version=lead.version)
    assert StageTally.objects.count() > 3
    before = tally.stage_totals(tally.EVERYONE)
    assert tally.tally_compact() == 1  # one (owner, stage) holds a lead; the rest summed to nothing
    assert tally.stage_totals(tally.EVERYONE) == before == {new.pk: (1, Decimal(5))}

    monkeypatch.setattr(tally, "COMPACT_OVER", 3)  # a read that finds many rows folds them by itself
    for stage in (valid, new, valid):
        lead.refresh_from_db()
        lead_change_status(lead=lead, stage=stage, by=manager, version=lead.version)
    assert StageTally.objects.count() > 3
    assert tally.stage_totals(tally.EVERYONE) == {valid.pk: (1, Decimal(5))}
    assert StageTally.objects.count() == 1


def test_the_command_checks_and_rebuilds(capsys):
    new = stage_named("New")
    LeadFactory(stage=new, value=Decimal(2))
    call_command("leads_tally")
    assert "matches the leads" in capsys.readouterr().out
    StageTally.objects.create(owner_key=0, stage_id=new.pk, leads=5, value=0)  # damage it
    with pytest.raises(SystemExit):
        call_command("leads_tally")
    assert "differs" in capsys.readouterr().out
    call_command("leads_tally", "--rebuild")
    assert tally.tally_differences() == []


def test_which_owner_counts_a_board(manager, sales):
    assert tally.owner_for_filters(manager, {}) == tally.EVERYONE
    assert tally.owner_for_filters(manager, {"counsellor": "none"}) == tally.UNASSIGNED
    assert tally.owner_for_filters(manager, {"counsellor": str(sales.pk)}) == sales.pk
    assert tally.owner_for_filters(manager, {"counsellor": str(sales.pk), "q": "asha"}) is None
    assert tally.owner_for_filters(manager, {"source": "Website"}) is None
    assert tally.owner_for_filters(sales, {}) == sales.pk
    assert tally.owner_for_filters(sales, {"counsellor": str(manager.pk)}) == sales.pk



@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single write lock")
@pytest.mark.django_db(transaction=True)  # another connection must be able to write (stages: default_pipeline)
def test_a_fold_never_waits_behind_a_writer_on_sqlite():
    """SQLite has one write lock: a board read that wants to fold the tally while a bulk action writes gives up
    at once (and leaves the rows for a later read) instead of queueing for the lock."""
    import sqlite3
    import time

    LeadFactory(stage=stage_named("New"))
    other = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writing
        started = time.monotonic()
        assert tally.tally_compact() == -1
        assert time.monotonic() - started < 1
    finally:
        other.rollback()
        other.close()


def test_the_tally_counts_contacted_leads_through_contacts_moves_and_deletes(manager):
    """Migration 0011: contacted leads per (owner, stage), for the dashboards' "contacted" numbers."""
    from crm.leads.services import activity_log, lead_record_outcome

    new, valid = stage_named("New"), stage_named("Valid")
    ana, ben = UserFactory(role="sales"), UserFactory(role="sales")
    a, b, c = (LeadFactory(stage=new, assigned_to=ana) for _ in range(3))
    assert tally.owner_contacted(ana.pk) == {}

    activity_log(lead=a, by=ana, kind="call", outcome="Answered")
    activity_log(lead=a, by=ana, kind="call", outcome="Answered again")  # already contacted: no change
    activity_log(lead=b, by=ana, kind="note", body="not a contact")
    lead_record_outcome(lead=c, by=ana, stage=valid, version=c.version)
    assert tally.owner_contacted(ana.pk) == {ana.pk: 2}
    assert_tally_right(ana.pk)

    leads_assign(lead_ids=[a.pk, b.pk], to_user=ben, by=manager)
    assert tally.owner_contacted(tally.EVERYONE) == {ana.pk: 1, ben.pk: 1}
    Lead.objects.filter(pk=c.pk).delete()
    Lead.objects.filter(pk=a.pk).update(last_contacted_at=None)
    assert tally.owner_contacted(tally.EVERYONE) == {}
    assert tally.tally_compact() >= 0
    assert_tally_right(ana.pk, ben.pk)
