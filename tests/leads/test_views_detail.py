from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.leads.models import Activity, Company, FollowUp, Lead, StatusChange
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def outcome_url(lead):
    return reverse("leads:record_outcome", args=[lead.uuid])


def local_input(when):
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_lead_page_shows_key_facts_links_and_the_outcome_form(client_for, sales, own_lead):
    html = client_for(sales).get(own_lead.get_absolute_url()).content.decode()
    assert "Anita Nair" in html and "anita@example.com" in html
    assert 'href="tel:+919876543210"' in html and 'href="https://wa.me/919876543210"' in html
    assert f'id="outcome-{own_lead.uuid}"' in html
    assert f'action="{outcome_url(own_lead)}"' in html
    assert 'data-asks-follow-up="1"' in html  # the follow-up stages are marked for the form's script
    assert "Delete" not in html  # sales users do not delete


def test_manager_sees_the_assignment_box_and_delete(client_for, manager, own_lead):
    response = client_for(manager).get(own_lead.get_absolute_url())
    assert "Delete" in response.content.decode()
    assert "assignment/_lead_assign.html" in [t.name for t in response.templates]


def test_record_outcome_with_htmx_updates_badge_timeline_and_follow_ups(client_for, sales, own_lead, stages, htmx):
    due = timezone.now() + timedelta(days=1)
    response = client_for(sales).post(
        outcome_url(own_lead),
        {"stage": stages["Follow-up"].pk, "note": "Call after exams", "follow_up_at": local_input(due),
         "version": own_lead.version},
        headers={**htmx, "HX-Current-URL": f"http://testserver{own_lead.get_absolute_url()}"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<form id="outcome-{own_lead.uuid}"')
    assert "Recorded: <strong>Follow-up</strong>" in html
    assert f"hx-swap-oob=\"outerHTML:[data-lead-stage='{own_lead.uuid}']\"" in html
    assert '<div id="lead-timeline" hx-swap-oob="true">' in html and "Call after exams" in html
    assert '<div id="lead-follow-ups" hx-swap-oob="true">' in html
    own_lead.refresh_from_db()
    assert own_lead.stage == stages["Follow-up"]
    assert FollowUp.objects.get(lead=own_lead, done_at__isnull=True).note == "Call after exams"


def test_record_outcome_from_another_page_sends_only_the_form_and_badge(client_for, sales, own_lead, stages, htmx):
    response = client_for(sales).post(
        outcome_url(own_lead), {"stage": stages["Valid"].pk, "version": own_lead.version},
        headers={**htmx, "HX-Current-URL": "http://testserver/"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-lead-stage" in html and 'id="lead-timeline"' not in html


def test_follow_up_stage_without_a_date_asks_for_one(client_for, sales, own_lead, stages, htmx):
    response = client_for(sales).post(outcome_url(own_lead), {"stage": stages["Follow-up"].pk, "version": own_lead.version},
                                      headers=htmx)
    assert response.status_code == 422
    assert "needs the date and time of the next follow-up" in response.content.decode()
    own_lead.refresh_from_db()
    assert own_lead.stage == stages["New"]


def test_invalid_stage_answers_400_with_a_message(client_for, sales, own_lead, htmx):
    response = client_for(sales).post(outcome_url(own_lead), {"stage": "999999", "version": own_lead.version}, headers=htmx)
    assert response.status_code == 400
    assert response["X-Error-Message"] == "Choose one of the pipeline's active stages."
    assert not StatusChange.objects.exists()


def test_inactive_stage_answers_400(client_for, sales, own_lead, stages, htmx):
    stages["Interested"].is_active = False
    stages["Interested"].save()
    response = client_for(sales).post(outcome_url(own_lead), {"stage": stages["Interested"].pk, "version": own_lead.version},
                                      headers=htmx)
    assert response.status_code == 400


def test_stale_version_answers_409_with_the_fresh_state(client_for, sales, manager, own_lead, stages, htmx):
    stale = own_lead.version
    client_for(manager).post(outcome_url(own_lead), {"stage": stages["Valid"].pk, "version": stale}, headers=htmx)
    response = client_for(sales).post(
        outcome_url(own_lead), {"stage": stages["Interested"].pk, "note": "my note", "version": stale},
        headers={**htmx, "HX-Current-URL": f"http://testserver{own_lead.get_absolute_url()}"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this lead" in html and "<strong>Valid</strong>" in html
    assert "my note" in html  # the user's note is kept for the retry
    assert f'name="version" value="{stale + 1}"' in html
    own_lead.refresh_from_db()
    assert own_lead.stage == stages["Valid"]
    assert StatusChange.objects.filter(lead=own_lead).count() == 1


def test_record_outcome_without_htmx_redirects_to_the_lead(client_for, sales, own_lead, stages):
    response = client_for(sales).post(outcome_url(own_lead), {"stage": stages["Valid"].pk, "version": own_lead.version})
    assert response.status_code == 302 and response["Location"] == own_lead.get_absolute_url()


def test_log_activity(client_for, sales, own_lead, htmx):
    response = client_for(sales).post(
        reverse("leads:log_activity", args=[own_lead.uuid]),
        {"kind": "whatsapp", "outcome": "Sent brochure", "body": "Shared the fee structure"}, headers=htmx,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Shared the fee structure" in html and '<div id="lead-timeline" hx-swap-oob="true">' in html
    activity = Activity.objects.get(lead=own_lead)
    assert (activity.kind, activity.by) == ("whatsapp", sales)
    own_lead.refresh_from_db()
    assert own_lead.last_contacted_at is not None


def test_log_activity_needs_some_text(client_for, sales, own_lead, htmx):
    response = client_for(sales).post(reverse("leads:log_activity", args=[own_lead.uuid]), {"kind": "call"}, headers=htmx)
    assert response.status_code == 422
    assert "Write an outcome, a subject or some text." in response.content.decode()
    assert not Activity.objects.exists()


def test_create_lead_normalises_the_phone_and_picks_or_creates_the_company(client_for, sales, stages):
    existing = CompanyFactory(name="Acme Academy")
    response = client_for(sales).post(reverse("leads:create"), {
        "name": "Priya Pillai", "phone": "098765 11111", "email": "Priya@Example.com", "stage": stages["New"].pk,
        "company_name": "acme academy",
    })
    lead = Lead.objects.get(name="Priya Pillai")
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    assert (lead.phone, lead.email, lead.company, lead.assigned_to) == ("+919876511111", "priya@example.com", existing, sales)
    client_for(sales).post(reverse("leads:create"), {"name": "B", "stage": stages["New"].pk, "company_name": "Brand New Co"})
    assert Company.objects.filter(name="Brand New Co").exists()


def test_create_refuses_a_duplicate_phone_with_a_link_to_the_existing_lead(client_for, sales, own_lead, stages):
    response = client_for(sales).post(reverse("leads:create"), {"name": "Again", "phone": "+91 98765-43210",
                                                               "stage": stages["New"].pk})
    assert response.status_code == 422
    html = response.content.decode()
    assert "A lead with this phone number already exists" in html
    assert f'href="{own_lead.get_absolute_url()}"' in html
    assert Lead.objects.count() == 1


def test_duplicate_of_someone_elses_lead_is_refused_without_revealing_it(client_for, sales, others_lead, stages):
    response = client_for(sales).post(reverse("leads:create"), {"name": "Again", "email": "RAHUL@example.com",
                                                               "stage": stages["New"].pk})
    html = response.content.decode()
    assert "already exists and is assigned to someone else" in html
    assert others_lead.get_absolute_url() not in html


def test_create_refuses_a_bad_phone_with_its_message(client_for, sales, stages):
    response = client_for(sales).post(reverse("leads:create"), {"name": "X", "phone": "9.87654E+09", "stage": stages["New"].pk})
    assert response.status_code == 422
    assert "scientific notation" in response.content.decode()
    assert not Lead.objects.exists()


def test_manager_creates_a_lead_for_a_counsellor(client_for, manager, sales, stages):
    client_for(manager).post(reverse("leads:create"), {"name": "For Sunil", "stage": stages["Valid"].pk, "counsellor": sales.pk})
    lead = Lead.objects.get(name="For Sunil")
    assert (lead.assigned_to, lead.stage) == (sales, stages["Valid"])


def test_edit_saves_facts_and_ignores_forbidden_fields(client_for, sales, other_sales, own_lead, stages):
    response = client_for(sales).post(reverse("leads:edit", args=[own_lead.uuid]), {
        "name": "Anita Nair K", "phone": "9876543210", "email": "anita@example.com", "version": own_lead.version,
        "assigned_to": other_sales.pk, "counsellor": other_sales.pk, "stage": stages["Admission"].pk,
        "created_by": other_sales.pk, "version_": 99,
    })
    assert response.status_code == 302
    own_lead.refresh_from_db()
    assert own_lead.name == "Anita Nair K"
    assert (own_lead.assigned_to, own_lead.stage, own_lead.created_by) == (sales, stages["New"], None)


def test_edit_with_a_stale_version_answers_409(client_for, sales, own_lead):
    data = {"name": "One", "phone": own_lead.phone, "version": own_lead.version}
    client_for(sales).post(reverse("leads:edit", args=[own_lead.uuid]), data)
    response = client_for(sales).post(reverse("leads:edit", args=[own_lead.uuid]), {**data, "name": "Two"})
    assert response.status_code == 409
    own_lead.refresh_from_db()
    assert own_lead.name == "One"


def test_delete_asks_then_deletes(client_for, manager, own_lead):
    client = client_for(manager)
    page = client.get(reverse("leads:delete", args=[own_lead.uuid]))
    assert "cannot be undone" in page.content.decode()
    response = client.post(reverse("leads:delete", args=[own_lead.uuid]))
    assert response.status_code == 302 and response["Location"] == reverse("leads:list")
    assert not Lead.objects.exists()


def test_company_pages(client_for, sales, own_lead, others_lead):
    company = CompanyFactory(name="Acme Academy", industry="Education")
    Lead.objects.filter(pk__in=[own_lead.pk, others_lead.pk]).update(company=company)
    client = client_for(sales)
    listing = client.get(reverse("leads:company_list"), {"q": "acme"})
    assert "Acme Academy" in listing.content.decode()
    page = client.get(reverse("leads:company_detail", args=[company.pk]))
    assert [lead.pk for lead in page.context["page"].leads] == [own_lead.pk]  # only the sales user's own
    options = client.get(reverse("leads:company_options"), {"company_name": "acm"})
    assert '<option value="Acme Academy">' in options.content.decode()
