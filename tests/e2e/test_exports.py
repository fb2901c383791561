"""Export a filtered lead list in Chromium and open the downloaded file."""

import csv

import openpyxl
import pytest
from playwright.sync_api import expect

from crm.leads.pipelines import load_pipeline
from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def export_manager(transactional_db):
    # serialized_rollback does not always bring the migrations' stages back (seen when non-browser
    # tests ran first), so load the pipeline here; it is idempotent.
    load_pipeline("admissions")
    return UserFactory(role="manager", email="exporter@example.com", full_name="Esha Exporter")


def test_export_a_filtered_list_to_excel_with_the_columns_in_my_order(
    page, live_server, browser_login, export_manager, tmp_path
):
    LeadFactory(name="Anil Kumar", phone="+919876500001", city="Kochi")
    LeadFactory(name='=HYPERLINK("http://evil.example")', phone="+919876500002", city="Kochi")
    LeadFactory(name="Priya Pune", phone="+919876500003", city="Pune")
    browser_login(export_manager)
    page.goto(f"{live_server.url}/leads/?city=Kochi")

    page.get_by_role("button", name="Export…").click()
    page.wait_for_url("**/exports/new/")
    assert page.get_by_role("button", name="Export 2 leads").is_visible()

    page.get_by_label("Excel (XLSX)").check()
    page.get_by_role("button", name="Untick all").click()
    page.get_by_label("Name", exact=True).check()
    page.get_by_label("Phone", exact=True).check()
    page.get_by_role("button", name="Move Phone up").click()  # Phone before Name

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export 2 leads").click()
    download = download_info.value
    assert download.suggested_filename.startswith("leads-") and download.suggested_filename.endswith(".xlsx")

    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Phone", "Name"]
    assert sorted(rows[1:]) == [
        ["+919876500001", "Anil Kumar"],
        ["+919876500002", '\'=HYPERLINK("http://evil.example")'],
    ]

    # The choice is remembered: the next export starts with Phone, Name and Excel.
    page.goto(f"{live_server.url}/exports/new/?city=Pune")
    checked = page.locator("#export-fields input:checked")
    assert [checked.nth(i).get_attribute("value") for i in range(checked.count())] == ["phone", "name"]
    assert page.get_by_label("Excel (XLSX)").is_checked()

    page.get_by_label("CSV", exact=True).check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export 1 lead").click()
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [["Phone", "Name"], ["'+919876500003", "Priya Pune"]]

    page.goto(f"{live_server.url}/exports/")
    assert page.locator("#export-history tbody tr").count() == 2


def test_a_big_export_shows_progress_then_a_download_link(
    page, live_server, browser_login, export_manager, settings, run_jobs, tmp_path
):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    for i in range(3):
        LeadFactory(name=f"Lead {i}", city="Kochi")
    browser_login(export_manager)
    page.goto(f"{live_server.url}/exports/new/?city=Kochi")
    page.get_by_label("CSV", exact=True).check()
    page.get_by_role("button", name="Export 3 leads").click()
    page.wait_for_url("**/exports/*-*/")
    expect(page.locator("#export-progress")).to_contain_text("Waiting for a worker")

    run_jobs()  # a real RQ worker; the page polls and then offers the file
    download_button = page.get_by_role("link", name="Download CSV")
    expect(download_button).to_be_visible(timeout=10_000)
    with page.expect_download() as download_info:
        download_button.click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with open(saved, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 4 and sorted(row[0] for row in rows[1:]) == ["Lead 0", "Lead 1", "Lead 2"]
