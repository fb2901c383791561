"""Import a spreadsheet in Chromium: upload with a progress bar, adjust the mapping, start, watch the
progress bar reach the end, open the lead list filtered to the import, download the error file."""

import re

import pytest
from playwright.sync_api import expect

from crm.imports.models import ImportJob
from crm.leads.models import Lead
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Leads from the fair\n"
    "Student Name,Mobile No.,E-mail,Course,Notes column\n"
    "Asha Menon,98765 00601,asha@example.com,MBA,called twice\n"
    "Ravi Kumar,9.87654E+09,ravi@example.com,BBA,\n"
    "Meena Iyer,9876500603,MEENA@example.com,MBA,=HYPERLINK(\"x\")\n"
)


def test_upload_map_start_watch_and_download_errors(page, live_server, browser_login, run_jobs, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    manager = UserFactory(role="manager", email="imports.manager@example.com", full_name="Imran Manager")
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    path = tmp_path / "fair leads.csv"
    path.write_text(CSV)

    browser_login(manager)
    page.goto(f"{live_server.url}/imports/")
    page.get_by_role("link", name="Import a spreadsheet").first.click()
    expect(page).to_have_url(re.compile(r"/imports/new/$"))
    page.wait_for_load_state("load")  # the page's script is listening before a file is chosen
    page.set_input_files("#id_file", str(path))
    expect(page.locator("#drop-zone-name")).to_contain_text("fair leads.csv")
    page.get_by_role("button", name="Upload and continue").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("+919876500601")  # as it will be stored
    expect(preview).to_contain_text("scientific notation")  # and the row's problem
    expect(preview.locator("thead")).to_contain_text("Notes")
    page.get_by_label("Notes column").select_option("")  # ignore that column
    expect(preview.locator("thead")).not_to_contain_text("Notes")
    page.get_by_label("Source for rows without one").fill("November fair")
    page.get_by_label("Source for rows without one").press("Tab")
    expect(page.locator("#id_source")).to_have_value("November fair")

    page.get_by_role("button", name="Start import").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    assert job.status == "queued"
    run_jobs()  # a real RQ worker runs the job while the page polls

    bar = page.locator("#import-bar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=20_000)
    expect(page.locator("#import-progress")).to_contain_text("Completed")
    expect(page.locator("[data-count=created]")).to_have_text("2")
    expect(page.locator("[data-count=errors]")).to_have_text("1")
    assert set(Lead.objects.values_list("source", "notes")) == {("November fair", "")}

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download rejected rows")).click()
    content = open(download_info.value.path(), encoding="utf-8-sig").read().splitlines()
    assert content[0] == "Student Name,Mobile No.,E-mail,Course,Notes column,error"
    assert content[1].startswith("Ravi Kumar,9.87654E+09,ravi@example.com,BBA,,")
    assert "scientific notation" in content[1]

    page.get_by_role("link", name="View the imported leads").click()
    expect(page).to_have_url(re.compile(rf"/leads/\?import_job={job.pk}$"))
    expect(page.get_by_text("Asha Menon")).to_be_visible()
    expect(page.get_by_text("Meena Iyer")).to_be_visible()
    assert problems == []


def test_big_file_goes_up_in_chunks_and_survives_a_dropped_connection(page, live_server, browser_login, tmp_path,
                                                                     settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IMPORT_CHUNK_THRESHOLD_BYTES = 1000
    settings.IMPORT_CHUNK_BYTES = 1024
    manager = UserFactory(role="manager", email="chunks.manager@example.com")
    lines = ["Name,Phone,Email"] + [f"Lead {i},98765{i:05d},lead{i}@example.com" for i in range(200)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    size = path.stat().st_size
    assert size > 5 * 1024

    dropped = []

    def drop_once(route):
        if route.request.method == "POST" and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")  # the connection drops in the middle of the upload
        else:
            route.continue_()

    browser_login(manager)
    page.route(re.compile(r".*/imports/uploads/[0-9a-f-]+/chunk/$"), drop_once)
    page.goto(f"{live_server.url}/imports/new/")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.locator("#upload-status")).to_contain_text("retrying")
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"), timeout=30_000)
    job = ImportJob.objects.get()
    assert dropped
    assert (job.file_size, job.status, job.chunks.count()) == (size, "mapping", 0)
    expect(page.locator("#import-preview")).to_contain_text("+919876500000")
