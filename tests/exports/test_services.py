"""Starting and running exports: fields and order, who may export what, the background path, clean-up."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from crm.exports import services
from crm.exports.models import ExportJob, ExportPreference, ExportStatus
from tests.factories import ActivityFactory, CompanyFactory, LeadFactory

from .conftest import read_csv, read_xlsx

pytestmark = pytest.mark.django_db


def run_now(export) -> ExportJob:
    return services.export_run(export_id=export.pk)


def file_bytes(export) -> bytes:
    with default_storage.open(export.file, "rb") as handle:
        return handle.read()


def test_export_has_the_chosen_fields_in_the_chosen_order(manager):
    company = CompanyFactory(name="Acme Schools", employees=120)
    lead = LeadFactory(
        name="Asha Nair", email="asha@example.com", city="Kochi", value=Decimal("25000"), company=company
    )
    export = services.export_create(
        user=manager, fields=["email", "company", "name", "value", "company_employees"], format="csv",
        lead_ids=[lead.pk],
    )  # fmt: skip
    rows = read_csv(file_bytes(run_now(export)))
    assert rows == [
        ["E-mail", "Company", "Name", "Deal value", "Employees"],
        ["asha@example.com", "Acme Schools", "Asha Nair", "25000.00", "120"],
    ]


def test_the_choice_of_fields_and_format_is_remembered(manager):
    lead = LeadFactory()
    services.export_create(user=manager, fields=["stage", "name", "stage", "bogus"], format="xlsx", lead_ids=[lead.pk])
    preference = ExportPreference.objects.get(user=manager)
    assert preference.fields == ["stage", "name"]  # repeats and unknown names dropped
    assert preference.format == "xlsx"


def test_no_known_field_is_refused(manager):
    lead = LeadFactory()
    with pytest.raises(ValueError, match="at least one field"):
        services.export_create(user=manager, fields=["password"], format="csv", lead_ids=[lead.pk])
    assert not ExportJob.objects.exists()


def test_stage_counsellor_and_last_note_come_from_related_rows(manager, sales):
    lead = LeadFactory(name="Ravi", assigned_to=sales)
    ActivityFactory(lead=lead, body="Old note", at=timezone.now() - timedelta(days=2))
    ActivityFactory(lead=lead, body="Wants the MBA brochure", at=timezone.now() - timedelta(hours=1))
    ActivityFactory(lead=lead, body="", at=timezone.now())  # a call without a note
    export = services.export_create(
        user=manager, fields=["name", "stage", "counsellor", "last_note"], format="xlsx", lead_ids=[lead.pk]
    )
    rows = read_xlsx(file_bytes(run_now(export)))
    assert rows[1] == ["Ravi", lead.stage.name, sales.full_name, "Wants the MBA brochure"]


def test_a_filtered_list_exports_every_matching_lead(manager):
    kochi = [LeadFactory(city="Kochi", name=f"Kochi {i}") for i in range(3)]
    LeadFactory(city="Pune", name="Pune 1")
    export = services.export_create(user=manager, fields=["name", "city"], format="csv", filter_query="city=kochi")
    assert export.row_count == 3
    rows = read_csv(file_bytes(run_now(export)))
    assert sorted(row[0] for row in rows[1:]) == sorted(lead.name for lead in kochi)


def test_a_sales_user_exports_only_their_own_leads(sales, other_sales):
    sales.can_export = True
    sales.save()
    mine = LeadFactory(name="Mine", assigned_to=sales, city="Kochi")
    theirs = LeadFactory(name="Theirs", assigned_to=other_sales, city="Kochi")
    unassigned = LeadFactory(name="Nobody's", city="Kochi")
    by_ids = services.export_create(
        user=sales, fields=["name"], format="csv", lead_ids=[mine.pk, theirs.pk, unassigned.pk]
    )
    assert read_csv(file_bytes(run_now(by_ids)))[1:] == [["Mine"]]
    by_filter = services.export_create(user=sales, fields=["name"], format="xlsx", filter_query="city=Kochi")
    assert read_xlsx(file_bytes(run_now(by_filter)))[1:] == [["Mine"]]


def test_a_sales_user_asking_only_for_others_leads_gets_nothing(sales, other_sales):
    sales.can_export = True
    sales.save()
    theirs = LeadFactory(assigned_to=other_sales)
    with pytest.raises(services.NothingToExport):
        services.export_create(user=sales, fields=["name"], format="csv", lead_ids=[theirs.pk])
    assert not ExportJob.objects.exists()


def test_a_sales_user_may_not_export_unless_an_admin_allows_it(sales):
    lead = LeadFactory(assigned_to=sales)
    with pytest.raises(PermissionDenied):
        services.export_create(user=sales, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert not ExportJob.objects.exists()


def test_small_export_is_left_for_the_caller_and_nothing_is_queued(
    manager, rq_queues, django_capture_on_commit_callbacks
):
    lead = LeadFactory()
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert export.status == ExportStatus.QUEUED
    assert all(queue.count == 0 for queue in rq_queues)


def test_big_export_runs_in_a_real_worker(manager, settings, run_jobs, rq_queues, django_capture_on_commit_callbacks):
    settings.EXPORT_SYNC_MAX_ROWS = 3
    leads = [LeadFactory(city="Kochi", name=f"Lead {i}") for i in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_create(
            user=manager, fields=["name", "phone"], format="xlsx", filter_query="city=Kochi"
        )
    default = next(queue for queue in rq_queues if queue.name == "default")
    assert default.count == 1
    assert default.jobs[0].timeout == services.JOB_TIMEOUT
    run_jobs()
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.rows_written == 7 and export.progress_percent == 100
    assert export.expires_at == export.finished_at + timedelta(hours=settings.EXPORT_LINK_HOURS)
    rows = read_xlsx(file_bytes(export))
    assert sorted(row[0] for row in rows[1:]) == sorted(lead.name for lead in leads)
    assert {row[1] for row in rows[1:]} == {lead.phone for lead in leads}


def test_a_second_run_of_the_same_export_does_nothing(manager):
    lead = LeadFactory()
    export = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    first = run_now(export)
    assert first.status == ExportStatus.READY
    assert services.export_run(export_id=export.pk) is None
    assert ExportJob.objects.get(pk=export.pk).file == first.file


def test_export_fails_cleanly_when_the_user_lost_the_right_meanwhile(sales):
    sales.can_export = True
    sales.save()
    lead = LeadFactory(assigned_to=sales)
    export = services.export_create(user=sales, fields=["name"], format="csv", lead_ids=[lead.pk])
    sales.can_export = False
    sales.save()
    with pytest.raises(PermissionDenied):
        run_now(export)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "no longer allowed" in export.message
    assert not export.file


def test_cleanup_deletes_expired_files_and_marks_them_expired(manager):
    lead = LeadFactory()
    old = run_now(services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk]))
    fresh = run_now(services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk]))
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert default_storage.exists(old.file)
    out = io.StringIO()
    call_command("exports_cleanup", stdout=out)
    assert "Expired 1 export" in out.getvalue()
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ExportStatus.EXPIRED and old.file == ""
    assert not default_storage.exists(f"exports/{manager.pk}/{old.uuid}.csv")
    assert fresh.status == ExportStatus.READY and default_storage.exists(fresh.file)


def test_cleanup_fails_exports_a_dead_worker_left_running(manager):
    lead = LeadFactory()
    export = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    ExportJob.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, created_at=timezone.now() - timedelta(seconds=services.JOB_TIMEOUT + 3600)
    )
    recent = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert services.exports_cleanup() == {"expired": 0, "failed": 1}
    export.refresh_from_db()
    recent.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "did not finish" in export.message
    assert recent.status == ExportStatus.QUEUED


def test_rows_follow_the_lists_sort(manager):
    for name in ["Chitra", "Anil", "Bala"]:
        LeadFactory(name=name, city="Kochi")
    ascending = services.export_create(user=manager, fields=["name"], format="csv", filter_query="city=Kochi&sort=name")
    descending = services.export_create(
        user=manager, fields=["name"], format="csv", filter_query="city=Kochi&sort=-name"
    )
    assert read_csv(file_bytes(run_now(ascending)))[1:] == [["Anil"], ["Bala"], ["Chitra"]]
    assert read_csv(file_bytes(run_now(descending)))[1:] == [["Chitra"], ["Bala"], ["Anil"]]


def test_more_rows_than_an_excel_sheet_holds_is_refused_for_xlsx_only(manager, monkeypatch):
    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 2)
    leads = [LeadFactory() for _ in range(3)]
    ids = [lead.pk for lead in leads]
    with pytest.raises(services.ExportNotPossible, match="at most 2 rows and this export has 3: choose CSV"):
        services.export_create(user=manager, fields=["name"], format="xlsx", lead_ids=ids)
    assert not ExportJob.objects.exists()
    assert services.export_create(user=manager, fields=["name"], format="csv", lead_ids=ids).row_count == 3
