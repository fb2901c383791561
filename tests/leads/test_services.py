from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crm.assignment.models import Assignment
from crm.leads import services
from crm.leads.models import Activity, FollowUp, Lead, StatusChange
from crm.leads.selectors import lead_timeline
from crm.leads.services import DuplicateLead, InvalidStage, VersionConflict
from tests.factories import FollowUpFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_status_change_writes_history_and_shows_on_the_timeline(own_lead, sales, stages):
    lead = services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Interested"], note="Liked the plan")
    assert lead.stage == stages["Interested"]
    change = StatusChange.objects.get(lead=own_lead)
    assert (change.from_stage, change.to_stage, change.by, change.note) == (
        stages["New"], stages["Interested"], sales, "Liked the plan"
    )
    timeline = lead_timeline(lead)
    assert timeline[0].kind == "status"
    assert timeline[0].item == change


def test_recording_an_outcome_bumps_the_version_and_last_contacted(own_lead, sales, stages):
    before = timezone.now()
    lead = services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Valid"], version=own_lead.version)
    assert lead.version == own_lead.version + 1
    assert lead.last_contacted_at >= before


def test_same_stage_outcome_keeps_the_note_as_a_timeline_note(own_lead, sales, stages):
    services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["New"], note="No answer, try evening")
    assert not StatusChange.objects.filter(lead=own_lead).exists()
    note = Activity.objects.get(lead=own_lead)
    assert (note.kind, note.body) == ("note", "No answer, try evening")
    assert lead_timeline(own_lead)[0].item == note


def test_stale_version_is_refused_and_nothing_changes(own_lead, sales, stages):
    stale = own_lead.version
    services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Valid"], version=stale)
    with pytest.raises(VersionConflict) as conflict:
        services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Interested"], note="late", version=stale,
                                     follow_up_at=timezone.now() + timedelta(days=1))
    assert conflict.value.lead.stage == stages["Valid"]
    own_lead.refresh_from_db()
    assert own_lead.stage == stages["Valid"]
    assert StatusChange.objects.filter(lead=own_lead).count() == 1
    assert not FollowUp.objects.filter(lead=own_lead).exists()


def test_inactive_stage_is_refused(own_lead, sales, stages):
    retired = stages["Interested"]
    retired.is_active = False
    retired.save()
    with pytest.raises(InvalidStage):
        services.lead_record_outcome(lead=own_lead, by=sales, stage=retired)
    own_lead.refresh_from_db()
    assert own_lead.stage == stages["New"]


def test_outcome_with_a_follow_up_plans_it_for_the_counsellor(own_lead, manager, sales, stages):
    due = timezone.now() + timedelta(days=2)
    lead = services.lead_record_outcome(lead=own_lead, by=manager, stage=stages["Follow-up"], follow_up_at=due)
    follow_up = FollowUp.objects.get(lead=own_lead)
    assert follow_up.owner == sales  # the lead's counsellor, not the manager who recorded it
    assert follow_up.done_at is None
    assert lead.next_follow_up_at == due


def test_a_new_follow_up_replaces_the_open_one(own_lead, sales, stages):
    first = timezone.now() + timedelta(days=1)
    second = timezone.now() + timedelta(days=3)
    services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Follow-up"], follow_up_at=first)
    lead = services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Follow-up"], follow_up_at=second)
    assert list(FollowUp.objects.filter(lead=own_lead, done_at__isnull=True).values_list("due_at", flat=True)) == [second]
    assert FollowUp.objects.filter(lead=own_lead, done_at__isnull=False).count() == 1
    assert lead.next_follow_up_at == second


def test_leaving_a_follow_up_stage_completes_its_follow_ups(own_lead, sales, stages):
    services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Follow-up"],
                                 follow_up_at=timezone.now() + timedelta(days=1))
    lead = services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Interested"])
    assert not FollowUp.objects.filter(lead=own_lead, done_at__isnull=True).exists()
    assert lead.next_follow_up_at is None


def test_board_or_bulk_path_leaving_follow_up_stage_also_completes(own_lead, sales, stages):
    """The status service itself applies the reminder rule, whatever the path."""
    services.lead_record_outcome(lead=own_lead, by=sales, stage=stages["Follow-up"],
                                 follow_up_at=timezone.now() + timedelta(days=1))
    services.lead_change_status(lead=own_lead, stage=stages["Admission"], by=sales)
    own_lead.refresh_from_db()
    assert own_lead.next_follow_up_at is None
    assert not FollowUp.objects.filter(lead=own_lead, done_at__isnull=True).exists()


def test_sales_user_cannot_work_another_counsellors_lead(others_lead, sales, stages):
    with pytest.raises(PermissionDenied):
        services.lead_record_outcome(lead=others_lead, by=sales, stage=stages["Valid"])
    with pytest.raises(PermissionDenied):
        services.activity_log(lead=others_lead, by=sales, kind="call", body="x")
    others_lead.refresh_from_db()
    assert others_lead.stage == stages["New"]
    assert not Activity.objects.exists()


@pytest.mark.parametrize("kind, moves_last_contacted", [("call", True), ("whatsapp", True), ("email", True),
                                                         ("meeting", True), ("sms", True), ("note", False)])
def test_logging_an_activity_sets_last_contacted_for_contacts_only(own_lead, sales, kind, moves_last_contacted):
    services.activity_log(lead=own_lead, by=sales, kind=kind, outcome="Answered", body="Spoke")
    own_lead.refresh_from_db()
    assert (own_lead.last_contacted_at is not None) is moves_last_contacted


def test_an_older_activity_does_not_move_last_contacted_back(own_lead, sales):
    now = timezone.now()
    services.activity_log(lead=own_lead, by=sales, kind="call", body="today", at=now)
    services.activity_log(lead=own_lead, by=sales, kind="call", body="last week", at=now - timedelta(days=7))
    own_lead.refresh_from_db()
    assert own_lead.last_contacted_at == now


def test_complete_and_reschedule_keep_next_follow_up_in_step(own_lead, sales):
    soon = FollowUpFactory(lead=own_lead, owner=sales, due_at=timezone.now() + timedelta(hours=2))
    later = FollowUpFactory(lead=own_lead, owner=sales, due_at=timezone.now() + timedelta(days=5))
    services._refresh_next_follow_up(own_lead)
    services.follow_up_complete(follow_up=soon, by=sales)
    own_lead.refresh_from_db()
    assert own_lead.next_follow_up_at == later.due_at
    new_time = timezone.now() + timedelta(days=1)
    services.follow_up_reschedule(follow_up=later, by=sales, due_at=new_time)
    own_lead.refresh_from_db()
    assert own_lead.next_follow_up_at == new_time
    services.follow_up_complete(follow_up=later, by=sales)
    own_lead.refresh_from_db()
    assert own_lead.next_follow_up_at is None


def test_create_by_a_sales_user_assigns_it_to_them_with_history(sales, stages):
    lead = services.lead_create(by=sales, fields={"name": "New Person", "phone": "+919800000001"},
                                company_name="Acme Academy")
    assert lead.assigned_to == sales and lead.created_by == sales
    assert lead.company.name == "Acme Academy"
    assert StatusChange.objects.get(lead=lead).to_stage == stages["New"]
    assert Assignment.objects.get(lead=lead).to_user == sales
    kinds = {entry.kind for entry in lead_timeline(lead)}
    assert kinds == {"status", "assignment"}


def test_create_reuses_a_company_with_the_same_name(manager):
    first = services.lead_create(by=manager, fields={"name": "A"}, company_name="Acme")
    second = services.lead_create(by=manager, fields={"name": "B"}, company_name="  acme ")
    assert first.company_id == second.company_id
    assert second.assigned_to is None


def test_create_refuses_duplicate_phone_and_email(manager, own_lead):
    with pytest.raises(DuplicateLead) as duplicate:
        services.lead_create(by=manager, fields={"name": "X", "phone": own_lead.phone})
    assert duplicate.value.lead == own_lead
    with pytest.raises(DuplicateLead):
        services.lead_create(by=manager, fields={"name": "X", "email": own_lead.email.upper()})
    assert Lead.objects.count() == 1


def test_update_ignores_fields_outside_the_lead_facts(own_lead, sales, other_sales, stages):
    services.lead_update(lead=own_lead, by=sales, fields={
        "name": "Anita N.", "assigned_to": other_sales, "stage": stages["Admission"], "created_by": other_sales,
    })
    own_lead.refresh_from_db()
    assert own_lead.name == "Anita N."
    assert own_lead.assigned_to == sales and own_lead.stage == stages["New"] and own_lead.created_by is None


def test_update_with_a_stale_version_conflicts(own_lead, sales):
    services.lead_update(lead=own_lead, by=sales, fields={"name": "First"}, version=own_lead.version)
    with pytest.raises(VersionConflict):
        services.lead_update(lead=own_lead, by=sales, fields={"name": "Second"}, version=own_lead.version)
    own_lead.refresh_from_db()
    assert own_lead.name == "First"


def test_only_managers_delete(own_lead, sales, manager):
    with pytest.raises(PermissionDenied):
        services.lead_delete(lead=own_lead, by=sales)
    assert Lead.objects.filter(pk=own_lead.pk).exists()
    services.lead_delete(lead=own_lead, by=manager)
    assert not Lead.objects.filter(pk=own_lead.pk).exists()


def test_bulk_change_writes_one_status_change_per_moved_lead(manager, stages):
    leads = LeadFactory.create_batch(3)
    already = LeadFactory(stage=stages["Valid"])
    moved = services.leads_bulk_change_status(lead_ids=[lead.pk for lead in leads] + [already.pk],
                                              stage=stages["Valid"], by=manager)
    assert moved == 3
    assert StatusChange.objects.filter(to_stage=stages["Valid"]).count() == 3
