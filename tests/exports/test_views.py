"""The pages: picker from the lead list, direct download, background progress, history, profile, permissions."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from crm.exports import services
from crm.exports.links import export_for_token
from crm.exports.models import ExportJob, ExportPreference, ExportStatus
from tests.factories import LeadFactory

from .conftest import read_csv, read_xlsx, response_bytes

pytestmark = pytest.mark.django_db
NEW = "/exports/new/"


def picker_post(**extra):
    data = {"step": "export", "format": "csv", "fields": ["name", "city"], "filter_query": ""}
    data.update(extra)
    return data


def test_lead_list_form_opens_the_picker_with_the_ticked_leads(client_for, manager):
    ticked = [LeadFactory(), LeadFactory()]
    LeadFactory()
    response = client_for(manager).post(
        NEW, {"lead_ids": [str(lead.pk) for lead in ticked], "filter_query": "city=Kochi", "select_all": "0"}
    )
    assert response.status_code == 200
    assert response.context["count"] == 2
    for lead in ticked:
        assert f'name="lead_ids" value="{lead.pk}"' in response.text
    assert "Export 2 leads" in response.text


def test_select_all_opens_the_picker_for_every_matching_lead(client_for, manager):
    ticked = LeadFactory(city="Kochi")
    for _ in range(3):
        LeadFactory(city="Kochi")
    LeadFactory(city="Pune")
    response = client_for(manager).post(
        NEW, {"lead_ids": [str(ticked.pk)], "filter_query": "city=Kochi", "select_all": "1"}
    )
    assert response.context["count"] == 4
    assert 'name="lead_ids"' not in response.text
    assert 'name="filter_query" value="city=Kochi"' in response.text


def test_picker_by_get_uses_the_lists_query_string_and_the_remembered_fields(client_for, manager):
    ExportPreference.objects.create(user=manager, fields=["email", "name"], format="xlsx")
    LeadFactory(city="Kochi")
    response = client_for(manager).get(NEW + "?city=Kochi&page=3")
    assert response.context["filter_query"] == "city=Kochi"
    assert response.context["count"] == 1
    chosen = [field.key for field, checked in response.context["fields"] if checked]
    assert chosen == ["email", "name"]
    assert (
        response.text.index('value="email"')
        < response.text.index('value="name"')
        < response.text.index('value="phone"')
    )
    assert re.search(r'<input type="radio" name="format" value="xlsx"[^>]* checked>', response.text)


def test_small_export_downloads_at_once_in_the_chosen_order(client_for, manager):
    LeadFactory(name="Asha", city="Kochi")
    LeadFactory(name="Bala", city="Pune")
    response = client_for(manager).post(NEW, picker_post(fields=["city", "name"], filter_query="city=Kochi"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    assert read_csv(response_bytes(response)) == [["City", "Name"], ["Kochi", "Asha"]]
    export = ExportJob.objects.get(user=manager)
    assert export.status == ExportStatus.READY and export.row_count == 1


def test_xlsx_download(client_for, manager):
    lead = LeadFactory(name="=Asha")
    response = client_for(manager).post(NEW, picker_post(format="xlsx", fields=["name", "phone"], lead_ids=[lead.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert read_xlsx(response_bytes(response)) == [["Name", "Phone"], ["'=Asha", lead.phone]]


def test_big_export_goes_to_the_background_with_a_progress_page(
    client_for, manager, settings, run_jobs, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    for _ in range(4):
        LeadFactory(city="Kochi")
    client = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, picker_post(filter_query="city=Kochi"))
    export = ExportJob.objects.get(user=manager)
    assert response.status_code == 302 and response["Location"] == reverse("exports:detail", args=[export.uuid])
    page = client.get(response["Location"])
    assert "Waiting for a worker" in page.text and 'hx-trigger="every 1s"' in page.text
    run_jobs()
    fragment = client.get(response["Location"], headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="export-progress"')
    assert "hx-trigger" not in fragment.text  # polling stops once ready
    download = fragment.context["download_url"]
    assert f'href="{download}"' in fragment.text
    rows = read_csv(response_bytes(client.get(download)))
    assert len(rows) == 5
    history = client.get(reverse("exports:list"))
    # Each page signs its links when it is drawn (the token carries a timestamp): compare what they name.
    prefix = reverse("exports:download", args=["TOKEN"]).split("TOKEN")[0]
    tokens = re.findall(rf'href="{re.escape(prefix)}([^/"]+)/"', history.text)
    assert [export_for_token(manager, token).pk for token in tokens] == [export.pk]


def test_history_polls_while_an_export_is_working(client_for, manager):
    ExportJob.objects.create(user=manager, status=ExportStatus.RUNNING, row_count=10_000, rows_written=2_500)
    response = client_for(manager).get(reverse("exports:list"), headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="export-history"')
    assert 'hx-trigger="every 2s"' in response.text
    assert "25%" in response.text


def test_over_the_allowance_the_picker_says_what_remains_and_nothing_is_made(client_for, manager):
    manager.export_rows_per_month = 2
    manager.save()
    for _ in range(3):
        LeadFactory(city="Kochi")
    response = client_for(manager).post(NEW, picker_post(filter_query="city=Kochi"))
    assert response.status_code == 422
    assert "3 rows but you have 2 of your 2 rows left" in response.text
    assert not ExportJob.objects.exists()


def test_no_field_ticked_is_a_clear_error(client_for, manager):
    lead = LeadFactory()
    response = client_for(manager).post(NEW, picker_post(fields=[], lead_ids=[lead.pk]))
    assert response.status_code == 422
    assert "Choose at least one field to export." in response.text
    assert not ExportJob.objects.exists()


def test_sales_user_without_the_right_gets_403(client_for, sales):
    lead = LeadFactory(assigned_to=sales)
    client = client_for(sales)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, picker_post(lead_ids=[lead.pk])).status_code == 403
    assert not ExportJob.objects.exists()


def test_sales_user_with_the_right_downloads_only_their_leads(client_for, sales, other_sales):
    sales.can_export = True
    sales.save()
    LeadFactory(name="Mine", assigned_to=sales, city="Kochi")
    theirs = LeadFactory(name="Theirs", assigned_to=other_sales, city="Kochi")
    client = client_for(sales)
    response = client.post(NEW, picker_post(fields=["name"], filter_query="city=Kochi"))
    assert read_csv(response_bytes(response)) == [["Name"], ["Mine"]]
    refused = client.post(NEW, picker_post(fields=["name"], lead_ids=[theirs.pk]))
    assert refused.status_code == 422 and "no leads to export" in refused.text


def test_someone_elses_export_page_is_404(client_for, manager, other_sales):
    lead = LeadFactory()
    export = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert client_for(other_sales).get(reverse("exports:detail", args=[export.uuid])).status_code == 404


def test_history_lists_only_the_users_own_exports(client_for, manager, admin_user):
    lead = LeadFactory()
    mine = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    theirs = services.export_create(user=admin_user, fields=["name"], format="csv", lead_ids=[lead.pk])
    response = client_for(manager).get(reverse("exports:list"))
    assert str(mine.uuid) in response.text and str(theirs.uuid) not in response.text


def test_profile_shows_the_allowance_used(client_for, manager):
    manager.exports_per_month = 10
    manager.export_rows_per_month = 50_000
    manager.save()
    lead = LeadFactory()
    services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    response = client_for(manager).get(reverse("accounts:profile"))
    assert "Exports this month" in response.text
    assert "1 of 10 used" in response.text and "(9 left)" in response.text
    assert "1 of 50,000 rows used" in response.text


def test_profile_of_a_sales_user_without_the_right_says_so(client_for, sales):
    response = client_for(sales).get(reverse("accounts:profile"))
    assert "Not allowed" in response.text


@pytest.mark.parametrize(
    ("role", "can_export", "shown"), [("manager", False, True), ("sales", True, True), ("sales", False, False)]
)
def test_export_button_on_the_lead_list_only_for_those_who_may_export(role, can_export, shown):
    from tests.factories import UserFactory

    user = UserFactory(role=role, can_export=can_export)
    request = RequestFactory().get("/leads/")
    request.user = user
    html = render_to_string("exports/_export_actions.html", {"user": user}, request=request)
    assert ('formaction="/exports/new/"' in html) is shown


def test_admin_pages_of_exports_open(client_for, admin_user):
    lead = LeadFactory()
    export = services.export_create(user=admin_user, fields=["name"], format="csv", lead_ids=[lead.pk])
    ExportPreference.objects.get(user=admin_user)
    client = client_for(admin_user)
    assert client.get("/admin/exports/exportjob/").status_code == 200
    assert client.get(f"/admin/exports/exportjob/{export.pk}/change/").status_code == 200
    assert client.get("/admin/exports/exportpreference/").status_code == 200
