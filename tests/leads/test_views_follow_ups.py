from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.leads.services import _refresh_next_follow_up
from tests.factories import FollowUpFactory, LeadFactory

pytestmark = pytest.mark.django_db
URL = reverse("leads:follow_ups")


def section(response, key):
    return [row.pk for row in next(s for s in response.context["sections"] if s["key"] == key)["rows"]]


@pytest.fixture
def three(own_lead, sales):
    now = timezone.now()
    overdue = FollowUpFactory(lead=own_lead, owner=sales, due_at=now - timedelta(days=2))
    today = FollowUpFactory(lead=LeadFactory(assigned_to=sales), owner=sales,
                            due_at=timezone.localtime(now).replace(hour=23, minute=58))
    upcoming = FollowUpFactory(lead=LeadFactory(assigned_to=sales), owner=sales, due_at=now + timedelta(days=4))
    for follow_up in (overdue, today, upcoming):
        _refresh_next_follow_up(follow_up.lead)
    return overdue, today, upcoming


def test_sections_split_overdue_today_upcoming(client_for, sales, three):
    overdue, today, upcoming = three
    response = client_for(sales).get(URL)
    assert section(response, "overdue") == [overdue.pk]
    assert section(response, "today") == [today.pk]
    assert section(response, "upcoming") == [upcoming.pk]


def test_nav_badge_shows_overdue_and_today(client_for, sales, three):
    html = client_for(sales).get(reverse("leads:list")).content.decode()
    assert 'title="Overdue or due today">2</span>' in html


def test_sales_user_sees_only_follow_ups_of_their_leads(client_for, other_sales, three):
    response = client_for(other_sales).get(URL)
    assert all(section(response, key) == [] for key in ("overdue", "today", "upcoming"))


def test_manager_sees_everyones_and_can_pick_a_counsellor(client_for, manager, sales, other_sales, three, others_lead):
    theirs = FollowUpFactory(lead=others_lead, owner=other_sales, due_at=timezone.now() - timedelta(days=1))
    everyone = client_for(manager).get(URL)
    assert set(section(everyone, "overdue")) == {three[0].pk, theirs.pk}
    one = client_for(manager).get(URL, {"owner": other_sales.pk})
    assert section(one, "overdue") == [theirs.pk] and section(one, "today") == []


def test_complete_in_place(client_for, sales, three, htmx):
    overdue = three[0]
    response = client_for(sales).post(reverse("leads:follow_up_complete", args=[overdue.pk]), {"show_lead": "1"},
                                      headers=htmx)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="follow-up-{overdue.pk}"') and "Done" in html
    overdue.refresh_from_db()
    assert overdue.done_at is not None
    overdue.lead.refresh_from_db()
    assert overdue.lead.next_follow_up_at is None


def test_reschedule_in_place(client_for, sales, three, htmx):
    overdue = three[0]
    new_time = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    response = client_for(sales).post(reverse("leads:follow_up_reschedule", args=[overdue.pk]),
                                      {"due_at": new_time.strftime("%Y-%m-%dT%H:%M")}, headers=htmx)
    assert response.status_code == 200
    overdue.refresh_from_db()
    assert overdue.due_at == new_time
    overdue.lead.refresh_from_db()
    assert overdue.lead.next_follow_up_at == new_time


def test_reschedule_to_the_past_is_refused(client_for, sales, three, htmx):
    overdue = three[0]
    before = overdue.due_at
    response = client_for(sales).post(reverse("leads:follow_up_reschedule", args=[overdue.pk]),
                                      {"due_at": "2020-01-01T10:00"}, headers=htmx)
    assert response.status_code == 422 and "Pick a time in the future." in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.due_at == before


def test_non_htmx_complete_goes_back(client_for, sales, three):
    response = client_for(sales).post(reverse("leads:follow_up_complete", args=[three[0].pk]), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == URL
