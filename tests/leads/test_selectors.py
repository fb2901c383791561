from datetime import timedelta

import pytest
from django.http import Http404, QueryDict
from django.utils import timezone

from crm.assignment.models import Assignment
from crm.leads import listing
from crm.leads.models import Lead
from crm.leads.selectors import (
    follow_up_get_for,
    follow_ups_due_counts,
    follow_ups_visible_to,
    lead_get_for,
    lead_timeline,
    leads_from_selection,
    leads_visible_to,
)
from tests.factories import ActivityFactory, FollowUpFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_sales_users_see_only_their_leads(own_lead, others_lead, sales, other_sales):
    unassigned = LeadFactory()
    assert set(leads_visible_to(sales)) == {own_lead}
    assert set(leads_visible_to(other_sales)) == {others_lead}
    assert unassigned not in leads_visible_to(sales)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_see_every_lead(own_lead, others_lead, role):
    unassigned = LeadFactory()
    assert set(leads_visible_to(UserFactory(role=role))) == {own_lead, others_lead, unassigned}


def test_inactive_users_see_nothing(own_lead, sales):
    sales.is_active = False
    sales.save()
    assert not leads_visible_to(sales).exists()


def test_lead_get_for_answers_404_for_someone_elses_lead(others_lead, sales, manager):
    with pytest.raises(Http404):
        lead_get_for(sales, others_lead.uuid)
    assert lead_get_for(manager, others_lead.uuid) == others_lead
    with pytest.raises(Http404):
        lead_get_for(manager, "not-a-uuid")


def test_selection_by_ids_stays_within_what_the_user_sees(own_lead, others_lead, sales):
    data = QueryDict(mutable=True)
    data.setlist("lead_ids", [str(own_lead.pk), str(others_lead.pk), "junk"])
    assert set(leads_from_selection(sales, data)) == {own_lead}


def test_select_all_applies_the_list_filters(manager, stages):
    interested = LeadFactory.create_batch(2, stage=stages["Interested"])
    LeadFactory(stage=stages["Valid"])
    data = QueryDict(mutable=True)
    data.update({"select_all": "1", "filter_query": f"stage={stages['Interested'].pk}"})
    assert set(leads_from_selection(manager, data)) == set(interested)


def test_select_all_with_an_invalid_filter_selects_nothing(manager):
    LeadFactory.create_batch(2)
    data = QueryDict(mutable=True)
    data.update({"select_all": "1", "filter_query": "stage=999999"})
    assert not leads_from_selection(manager, data).exists()


def test_timeline_merges_every_kind_newest_first(own_lead, sales, manager, stages):
    now = timezone.now()
    ActivityFactory(lead=own_lead, by=sales, at=now - timedelta(hours=3), body="First call")
    # The lead's creation wrote its assignment row (leads migration 0009); move it before the call.
    Assignment.objects.filter(lead=own_lead).update(by=manager, at=now - timedelta(hours=4))
    FollowUpFactory(lead=own_lead, owner=sales, due_at=now + timedelta(days=1))
    from crm.leads.services import lead_change_status

    lead_change_status(lead=own_lead, stage=stages["Valid"], by=sales, note="Checked")
    kinds = [entry.kind for entry in lead_timeline(own_lead)]
    assert kinds == ["status", "follow_up", "activity", "assignment"]


def test_follow_ups_of_a_sales_user_are_those_of_their_leads(own_lead, others_lead, sales, other_sales, manager):
    mine = FollowUpFactory(lead=own_lead, owner=sales)
    theirs = FollowUpFactory(lead=others_lead, owner=other_sales)
    FollowUpFactory(lead=own_lead, owner=sales, done_at=timezone.now())
    assert list(follow_ups_visible_to(sales)) == [mine]
    assert set(follow_ups_visible_to(manager)) == {mine, theirs}
    assert list(follow_ups_visible_to(manager, owner=other_sales)) == [theirs]
    with pytest.raises(Http404):
        follow_up_get_for(sales, theirs.pk)


def test_nav_badge_counts_overdue_and_due_today_only(sales):
    now = timezone.now()
    LeadFactory(assigned_to=sales, next_follow_up_at=now - timedelta(days=2))
    LeadFactory(assigned_to=sales, next_follow_up_at=now.replace(hour=0, minute=0) + timedelta(minutes=1))
    LeadFactory(assigned_to=sales, next_follow_up_at=now + timedelta(days=3))
    LeadFactory(assigned_to=None, next_follow_up_at=now - timedelta(days=1))
    assert follow_ups_due_counts(sales)["due"] == 2


def test_pages_follow_the_sort_and_do_not_overlap():
    base = timezone.now()
    for i in range(7):
        LeadFactory(name=f"Lead {i}", last_contacted_at=base - timedelta(hours=i) if i % 2 else None)
    seen = []
    for number in (1, 2, 3):
        page = listing.lead_page(Lead.objects.all(), sort="-last_contacted", page=number, per_page=3)
        seen += page.leads
    assert len(seen) == 7 and len(set(seen)) == 7
    contacted = [lead.last_contacted_at for lead in seen if lead.last_contacted_at]
    assert contacted == sorted(contacted, reverse=True)
    assert all(lead.last_contacted_at is None for lead in seen[len(contacted):])  # never contacted: last


def test_counts_are_capped(monkeypatch):
    LeadFactory.create_batch(5)
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    page = listing.lead_page(Lead.objects.all(), sort="-updated", page=1, per_page=2)
    assert (page.total, page.total_exact, page.has_next, page.last_page) == (3, False, True, None)
    page = listing.lead_page(Lead.objects.filter(pk=0), sort="-updated", page=1)
    assert (page.total, page.total_exact, page.leads) == (0, True, [])


def test_deep_pages_beyond_the_cap_are_refused(monkeypatch):
    LeadFactory.create_batch(5)
    monkeypatch.setattr(listing, "MAX_OFFSET", 2)
    last_allowed = listing.lead_page(Lead.objects.all(), sort="-updated", page=3, per_page=1)
    assert len(last_allowed.leads) == 1 and not last_allowed.has_next
    page = listing.lead_page(Lead.objects.all(), sort="-updated", page=4, per_page=1)
    assert page.too_deep and page.leads == []


@pytest.mark.parametrize("asked, used", [("name", "name"), ("-last_contacted", "-last_contacted"),
                                         ("rank", "-updated"), ("", "-updated"), (None, "-updated"),
                                         ("-id); drop table x", "-updated")])
def test_only_offered_sorts_are_used(asked, used):
    assert listing.clean_sort(asked) == used


def test_only_the_whole_table_is_estimated(monkeypatch, own_lead, others_lead, sales):
    monkeypatch.setattr(listing, "estimated_table_rows", lambda: 1_000_000)
    whole = listing.lead_page(Lead.objects.all(), sort="-updated", page=1, unfiltered=True)
    assert (whole.total, whole.total_exact) == (1_000_000, False)
    mine = listing.lead_page(leads_visible_to(sales), sort="-updated", page=1, unfiltered=True)
    assert (mine.total, mine.total_exact, mine.leads) == (1, True, [own_lead])


def test_the_badge_also_counts_the_overdue_ones(sales):
    now = timezone.now()
    LeadFactory(assigned_to=sales, next_follow_up_at=now - timedelta(days=2))
    LeadFactory(assigned_to=sales, next_follow_up_at=now + timedelta(days=3))
    assert follow_ups_due_counts(sales) == {"due": 1, "overdue": 1}


@pytest.mark.parametrize("small", [True, False], ids=["read by id", "plain filter"])
def test_owner_filters_select_the_same_leads_whatever_the_plan(small, monkeypatch, manager, sales, other_sales):
    """owned_by and owned_since choose their SQL by the owner's size; the leads are the same either way,
    through assignment, reassignment and undo."""
    from crm.assignment.services import batch_undo, leads_assign
    from crm.leads import owners

    monkeypatch.setattr(owners, "_decided", {})
    monkeypatch.setattr(owners, "_owner_is_small", lambda owner_id: small)
    before = timezone.now() - timedelta(seconds=1)
    mine = LeadFactory(assigned_to=sales)
    leads = LeadFactory.create_batch(4)
    leads_assign(lead_ids=[lead.pk for lead in leads], to_user=sales, by=manager)
    taken = leads_assign(lead_ids=[leads[0].pk], to_user=other_sales, by=manager)
    undone = leads_assign(lead_ids=[leads[1].pk], to_user=other_sales, by=manager)
    batch_undo(batch=undone, by=manager)
    expected = {mine.pk, leads[1].pk, leads[2].pk, leads[3].pk}
    assert set(owners.owned_by(Lead.objects.all(), sales).values_list("pk", flat=True)) == expected
    assert set(Lead.objects.filter(assigned_to=sales).values_list("pk", flat=True)) == expected
    since = set(owners.owned_since(Lead.objects.all(), sales, before).values_list("pk", flat=True))
    assert since == set(Lead.objects.filter(assigned_to=sales, assigned_at__gt=before).values_list("pk", flat=True))
    assert since == expected - {mine.pk}  # the factory gives it no assigned_at
    assert taken.count == 1
    assert not owners.owned_since(Lead.objects.all(), sales, timezone.now()).exists()
