"""The counsellor's and the manager's everyday moves on the leads workspace, in Chromium."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.leads.models import FollowUp, Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def pipeline(transactional_db):
    """The admissions stages, whatever an earlier transactional test flushed (idempotent)."""
    from crm.leads.pipelines import load_pipeline

    return load_pipeline("admissions")


@pytest.fixture
def counsellor(transactional_db):
    return UserFactory(role="sales", email="kiran@example.com", full_name="Kiran Counsellor")


@pytest.fixture
def boss(transactional_db):
    return UserFactory(role="manager", email="meera@example.com", full_name="Meera Manager")


def test_counsellor_records_an_outcome_with_a_follow_up_without_a_reload(page, live_server, browser_login, counsellor):
    lead = LeadFactory(name="Anita Nair", phone="+919876543210", assigned_to=counsellor)
    browser_login(counsellor)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.evaluate("window.__sameDocument = true")  # survives only if the page is never reloaded

    form = page.locator(f"#outcome-{lead.uuid}")
    form.get_by_label("Stage").select_option(label="Follow-up")
    follow_up = form.get_by_label("Next follow-up")
    expect(follow_up).to_have_attribute("required", "")  # the follow-up stage asks for a date
    when = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=11, minute=30)
    follow_up.fill(when.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Note").fill("Parents want the fee plan; call after exams")
    form.get_by_role("button", name="Record outcome").click()

    timeline = page.locator("#lead-timeline")
    expect(timeline).to_contain_text("Parents want the fee plan; call after exams")
    expect(page.locator(f"h1 [data-lead-stage='{lead.uuid}']")).to_have_text("Follow-up")
    expect(page.locator("#lead-follow-ups")).to_contain_text(when.strftime("%-d %b %Y, %H:%M"))
    expect(page.locator(f"#outcome-{lead.uuid}")).to_contain_text("Recorded: Follow-up")
    assert page.evaluate("window.__sameDocument") is True

    lead.refresh_from_db()
    assert lead.stage.name == "Follow-up"
    assert FollowUp.objects.get(lead=lead, done_at__isnull=True).due_at == when.replace(second=0, microsecond=0)


def test_follow_up_stage_without_a_date_is_explained_in_place(page, live_server, browser_login, counsellor):
    lead = LeadFactory(name="Rahul Menon", assigned_to=counsellor)
    browser_login(counsellor)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    form = page.locator(f"#outcome-{lead.uuid}")
    form.get_by_label("Stage").select_option(label="Call not attended")
    form.locator("input[name=follow_up_at]").evaluate("el => el.removeAttribute('required')")  # as without JS
    form.get_by_role("button", name="Record outcome").click()
    expect(page.locator(f"#outcome-{lead.uuid}")).to_contain_text("needs the date and time of the next follow-up")
    lead.refresh_from_db()
    assert lead.stage.name == "New"


def test_manager_filters_the_list_by_typing_and_the_back_button_restores_it(page, live_server, browser_login, boss):
    LeadFactory(name="Anita Nair", area="Kakkanad")
    LeadFactory(name="Rahul Menon", area="Edappally")
    LeadFactory(name="Fathima Rasheed", area="Vyttila")
    browser_login(boss)
    page.goto(f"{live_server.url}/leads/")
    rows = page.locator("#lead-table tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_role("searchbox", name="Search").press_sequentially("anit", delay=60)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Anita Nair")
    expect(page).to_have_url(f"{live_server.url}/leads/?q=anit")
    expect(page.locator("#lead-total")).to_contain_text("1 lead")

    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/leads/")
    expect(page.locator("#lead-table tbody tr")).to_have_count(3)


def test_phone_search_in_any_format_and_the_stage_filter(page, live_server, browser_login, boss):
    LeadFactory(name="Anita Nair", phone="+919876543210")
    LeadFactory(name="Rahul Menon", phone="+919812312312")
    browser_login(boss)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("searchbox", name="Search").fill("098765 43210")
    rows = page.locator("#lead-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Anita Nair")
    assert Lead.objects.count() == 2
