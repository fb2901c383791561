from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.leads.models import Lead, Technology
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db
URL = reverse("leads:list")


def shown(response):
    return {lead.name for lead in response.context["page"].leads}


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


def test_list_shows_the_table_with_links_and_phone_actions(manager_client, own_lead):
    response = manager_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{own_lead.get_absolute_url()}"' in html
    assert 'href="tel:+919876543210"' in html
    assert 'href="https://wa.me/919876543210"' in html
    assert '<form id="lead-selection" method="post">' in html
    assert f'name="lead_ids" value="{own_lead.pk}"' in html
    assert response.context["total"] == 1


def test_htmx_request_gets_only_the_table_partial(manager_client, own_lead, htmx):
    response = manager_client.get(URL, {"q": "Anita"}, headers=htmx)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-table"')
    assert "<html" not in html and 'id="lead-filter"' not in html
    assert "Anita Nair" in html


def test_history_restore_gets_the_full_page(manager_client, own_lead):
    response = manager_client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_sales_users_see_no_selection_boxes_and_no_counsellor_filter(client_for, sales, own_lead, others_lead):
    response = client_for(sales).get(URL)
    html = response.content.decode()
    assert shown(response) == {"Anita Nair"}
    assert 'name="lead_ids"' not in html
    assert 'name="counsellor"' not in html


def test_sales_user_cannot_widen_their_list_with_the_counsellor_filter(client_for, sales, own_lead, others_lead, other_sales):
    response = client_for(sales).get(URL, {"counsellor": other_sales.pk})
    assert shown(response) == {"Anita Nair"}


@pytest.mark.parametrize("query", ["Anita", "anit", "nair", "an", "Anita Nair", "Kakkanad", "kakk"])
def test_search_by_name_or_area_fragment(manager_client, query):
    LeadFactory(name="Anita Nair", area="Kakkanad")
    LeadFactory(name="Rahul Menon", area="Edappally")
    response = manager_client.get(URL, {"q": query})
    assert shown(response) == {"Anita Nair"}


@pytest.mark.parametrize("query", ["+91 98765-43210", "098765 43210", "9876543210", "919876543210", "98765 43210",
                                   "87654", "+91 98765"])
def test_search_by_phone_in_any_format_or_part(manager_client, query):
    LeadFactory(name="Anita Nair", phone="+919876543210")
    LeadFactory(name="Rahul Menon", phone="+919812312312")
    response = manager_client.get(URL, {"q": query})
    assert shown(response) == {"Anita Nair"}


@pytest.mark.parametrize("query", ["anita@example.com", "ANITA@Example.com", "anita@", "@example.com"])
def test_search_by_email(manager_client, query):
    LeadFactory(name="Anita Nair", email="anita@example.com")
    LeadFactory(name="Rahul Menon", email="rahul@sample.org")
    response = manager_client.get(URL, {"q": query})
    assert shown(response) == {"Anita Nair"}


def test_stage_filter_takes_several_stages(manager_client, stages):
    LeadFactory(name="A", stage=stages["Interested"])
    LeadFactory(name="B", stage=stages["Valid"])
    LeadFactory(name="C", stage=stages["New"])
    response = manager_client.get(f"{URL}?stage={stages['Interested'].pk}&stage={stages['Valid'].pk}")
    assert shown(response) == {"A", "B"}


def test_counsellor_filter_and_unassigned(manager_client, sales, other_sales):
    LeadFactory(name="Mine", assigned_to=sales)
    LeadFactory(name="Theirs", assigned_to=other_sales)
    LeadFactory(name="Nobody's")
    assert shown(manager_client.get(URL, {"counsellor": sales.pk})) == {"Mine"}
    assert shown(manager_client.get(URL, {"counsellor": "none"})) == {"Nobody's"}


def test_follow_up_filter(manager_client):
    now = timezone.now()
    LeadFactory(name="Overdue", next_follow_up_at=now - timedelta(days=2))
    LeadFactory(name="Upcoming", next_follow_up_at=now + timedelta(days=3))
    LeadFactory(name="Today", next_follow_up_at=timezone.localtime(now).replace(hour=23, minute=59))
    LeadFactory(name="None")
    assert shown(manager_client.get(URL, {"follow_up": "overdue"})) == {"Overdue"}
    assert shown(manager_client.get(URL, {"follow_up": "today"})) == {"Today"}
    assert shown(manager_client.get(URL, {"follow_up": "upcoming"})) == {"Upcoming"}
    assert shown(manager_client.get(URL, {"follow_up": "none"})) == {"None"}


@pytest.mark.parametrize("field, match, other, query", [
    ("source", "Referral", "Website", "referral"),
    ("interest", "MBA", "BBA", "mba"),
    ("city", "Kochi", "Chennai", "KOCHI"),
    ("state", "Kerala", "Tamil Nadu", "kerala"),
    ("country", "India", "Singapore", "india"),
])
def test_text_filters_match_whole_values_in_any_case(manager_client, field, match, other, query):
    LeadFactory(name="Match", **{field: match})
    LeadFactory(name="Other", **{field: other})
    assert shown(manager_client.get(URL, {field: query})) == {"Match"}


def test_lead_date_range(manager_client):
    LeadFactory(name="March", lead_date=date(2026, 3, 10))
    LeadFactory(name="May", lead_date=date(2026, 5, 10))
    response = manager_client.get(URL, {"lead_date_after": "2026-03-01", "lead_date_before": "2026-03-31"})
    assert shown(response) == {"March"}


def test_created_range(manager_client):
    old = LeadFactory(name="Old")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    LeadFactory(name="New")
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert shown(manager_client.get(URL, {"created_after": since})) == {"New"}
    assert shown(manager_client.get(URL, {"created_before": since})) == {"Old"}


def test_company_filters(manager_client):
    python, aws = Technology.objects.create(name="Python"), Technology.objects.create(name="AWS")
    big = CompanyFactory(industry="Healthcare", employees=800, annual_revenue=5_000_000)
    big.technologies.add(python, aws)
    small = CompanyFactory(industry="Education", employees=12, annual_revenue=200_000)
    small.technologies.add(python)
    LeadFactory(name="Big", company=big)
    LeadFactory(name="Small", company=small)
    LeadFactory(name="No company")
    assert shown(manager_client.get(URL, {"industry": "healthcare"})) == {"Big"}
    assert shown(manager_client.get(URL, {"employees_min": "100"})) == {"Big"}
    assert shown(manager_client.get(URL, {"employees_max": "100"})) == {"Small"}
    assert shown(manager_client.get(URL, {"revenue_min": "1000000"})) == {"Big"}
    assert shown(manager_client.get(URL, {"technologies": "python"})) == {"Big", "Small"}
    assert shown(manager_client.get(URL, {"technologies": "Python, aws"})) == {"Big"}


def test_invalid_filter_input_is_reported_not_a_crash(manager_client, own_lead):
    response = manager_client.get(URL, {"lead_date_after": "not a date", "employees_min": "many"})
    assert response.status_code == 200
    assert "Some filters were not applied" in response.content.decode()


def test_sort_by_last_contacted_puts_never_contacted_last(manager_client):
    now = timezone.now()
    LeadFactory(name="Never")
    LeadFactory(name="Yesterday", last_contacted_at=now - timedelta(days=1))
    LeadFactory(name="Today", last_contacted_at=now)
    response = manager_client.get(URL, {"sort": "-last_contacted"})
    assert [lead.name for lead in response.context["page"].leads] == ["Today", "Yesterday", "Never"]
    assert 'aria-sort="descending"' in response.content.decode()


def test_pages_carry_the_filters(manager_client, stages):
    for i in range(12):
        LeadFactory(name=f"Lead {i:02}", stage=stages["Valid"])
    LeadFactory(name="Elsewhere")
    response = manager_client.get(URL, {"stage": stages["Valid"].pk, "per_page": 10, "sort": "name"})
    assert len(response.context["page"].leads) == 10
    html = response.content.decode()
    assert f"?page=2&amp;per_page=10&amp;sort=name&amp;stage={stages['Valid'].pk}" in html
    second = manager_client.get(URL, {"stage": stages["Valid"].pk, "per_page": 10, "sort": "name", "page": 2})
    assert shown(second) == {"Lead 10", "Lead 11"}
    assert second.context["filter_query"] == f"stage={stages['Valid'].pk}&per_page=10&sort=name"


def test_total_shows_as_an_estimate_or_a_floor_when_capped(manager_client, monkeypatch, stages):
    from crm.leads import listing

    LeadFactory.create_batch(4, stage=stages["Valid"], source="Fair")
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    html = manager_client.get(URL, {"source": "Fair"}).content.decode()
    assert "more than <strong>2</strong> leads" in html


def test_stage_and_counsellor_totals_are_exact_from_the_stage_tally(client_for, manager, sales, monkeypatch, stages):
    """Above the count cap, the stage and counsellor filters still show the exact total: the tally knows it."""
    from crm.leads import listing

    LeadFactory.create_batch(4, stage=stages["Valid"], assigned_to=sales)
    LeadFactory.create_batch(2, stage=stages["Valid"])
    LeadFactory(stage=stages["New"], assigned_to=sales)
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    html = client_for(manager).get(URL, {"stage": stages["Valid"].pk, "counsellor": sales.pk}).text
    assert "<strong>4</strong> leads" in html and "more than" not in html
    html = client_for(manager).get(URL, {"stage": stages["Valid"].pk}).text
    assert "<strong>6</strong> leads" in html
    html = client_for(sales).get(URL).text
    assert "<strong>5</strong> leads" in html
    html = client_for(sales).get(URL, {"stage": [stages["Valid"].pk, stages["New"].pk]}).text
    assert "<strong>5</strong> leads" in html


def test_the_import_filter_survives_live_filtering(manager_client):
    html = manager_client.get(URL, {"import_job": "7"}).content.decode()
    assert '<input type="hidden" name="import_job" value="7">' in html  # part of the filter form's next request


def test_the_contacted_and_anyone_assigned_filters(client_for, manager, sales):
    reached = LeadFactory(name="Reached", assigned_to=sales, last_contacted_at=timezone.now())
    waiting = LeadFactory(name="Waiting", assigned_to=sales)
    nobody = LeadFactory(name="Nobody")
    client = client_for(manager)
    html = client.get("/leads/?contacted=yes").text
    assert reached.name in html and waiting.name not in html and nobody.name not in html
    assert '<option value="yes" selected>Contacted</option>' in html
    html = client.get("/leads/?contacted=no&counsellor=any").text
    assert waiting.name in html and reached.name not in html and nobody.name not in html
    assert '<option value="any" selected>Anyone assigned</option>' in html
