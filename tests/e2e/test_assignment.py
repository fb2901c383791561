"""Assignment in Chromium: a manager filters the unassigned queue, selects leads, distributes them to two
counsellors, sees the summary and undoes it; after a second distribution a counsellor signs in and finds
the new leads flagged (badge and the "new for me" page)."""

import re

import pytest
from playwright.sync_api import expect

from crm.assignment.models import Assignment, AssignmentBatch
from crm.leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def team(transactional_db):
    return {
        "manager": UserFactory(role="manager", email="meera@example.com", full_name="Meera Manager"),
        "anu": UserFactory(role="sales", email="anu@example.com", full_name="Anu Counsellor"),
        "binu": UserFactory(role="sales", email="binu@example.com", full_name="Binu Counsellor"),
        "chinnu": UserFactory(role="sales", email="chinnu@example.com", full_name="Chinnu Counsellor"),
    }


def owners(leads):
    return dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "assigned_to_id"))


def distribute_pune_leads(page, live_server):
    """Filter the queue to Pune, tick every row, distribute among Anu and Binu, confirm the preview."""
    page.goto(f"{live_server.url}/leads/unassigned/")
    with page.expect_response(lambda r: "/leads/unassigned/" in r.url and "city=Pune" in r.url):
        page.locator("#lead-filter").get_by_label("City").fill("Pune")
    expect(page.locator("#lead-table tbody tr")).to_have_count(4)
    page.get_by_label("Select every lead on this page").check()
    page.locator(".bulk-among summary").click()
    page.get_by_label("Anu Counsellor").check()
    page.get_by_label("Binu Counsellor").check()
    page.get_by_role("button", name="Distribute evenly…").click()

    expect(page.get_by_role("heading", name="Distribute 4 leads evenly?")).to_be_visible()
    rows = page.locator("#preview-per-user tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Anu Counsellor").locator("td").last).to_have_text("2")
    expect(rows.filter(has_text="Binu Counsellor").locator("td").last).to_have_text("2")
    page.get_by_role("button", name="Distribute 4 leads").click()
    expect(page.locator("#batch-title")).to_have_text("Balanced distribution: 4 leads changed")


def test_manager_distributes_the_filtered_queue_undoes_it_and_a_counsellor_sees_the_new_leads(
    page, live_server, browser_login, team
):
    pune = [LeadFactory(name=f"Pune Lead {n}", city="Pune") for n in range(4)]
    kochi = LeadFactory(name="Kochi Lead", city="Kochi")
    LeadFactory(name="Taken Lead", city="Pune", assigned_to=team["chinnu"])
    browser_login(team["manager"])

    distribute_pune_leads(page, live_server)

    summary = page.locator("#summary-per-user")
    expect(summary).to_contain_text("Anu Counsellor")
    expect(summary).to_contain_text("Binu Counsellor")
    assert sorted(owners(pune).values()) == sorted([team["anu"].pk] * 2 + [team["binu"].pk] * 2)
    assert owners([kochi]) == {kochi.pk: None}
    expect(page.locator("#batch-undo")).to_contain_text("Undo puts back the previous owner of 4 of these 4 leads")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo").click()

    expect(page.locator("#batch-undone")).to_contain_text("4 leads put back")
    assert set(owners(pune).values()) == {None}
    first = AssignmentBatch.objects.get(method="distribute")
    assert first.undone_at is not None

    distribute_pune_leads(page, live_server)  # again, for real this time
    assert Assignment.objects.filter(lead__in=pune).count() == 12  # two distributions and one undo, 4 leads each

    page.context.clear_cookies()
    browser_login(team["anu"])
    badge = page.locator("nav .badge", has_text=re.compile(r"^\s*2\s*$"))
    expect(badge).to_have_count(1)
    page.goto(f"{live_server.url}/leads/new-for-me/")
    new_rows = page.locator("#new-leads tr.new-lead")
    expect(new_rows).to_have_count(2)
    expect(new_rows.locator(".new-flag")).to_have_count(2)
    anus = {lead.name for lead in Lead.objects.filter(pk__in=[x.pk for x in pune], assigned_to=team["anu"])}
    assert set(new_rows.locator("a.fw-semibold").all_inner_texts()) == anus
    expect(page.locator("nav .badge", has_text=re.compile(r"^\s*2\s*$"))).to_have_count(0)  # seen now
