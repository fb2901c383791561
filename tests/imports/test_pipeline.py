"""The import pipeline's outcomes: existing leads (skip / fill / overwrite), history, distribution,
cancel, revert, and the command line."""

import json

import pytest
from django.core.management import call_command

from crm.assignment.models import Assignment
from crm.imports.models import ImportJob, ImportStatus
from crm.imports.pipeline import run_import
from crm.imports.revert import import_revert
from crm.imports.services import import_cancel, import_start
from crm.leads.models import Activity, Lead, StatusChange
from crm.leads.selectors import first_stage
from tests.factories import ActivityFactory, LeadFactory, UserFactory, stage_named

from .conftest import fixture, upload

pytestmark = pytest.mark.django_db


def write_csv(tmp_path, rows, name="leads.csv"):
    path = tmp_path / name
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_every_created_lead_gets_its_first_status_change_and_the_import(import_file, admin_user):
    job = import_file("utf8_bom.csv")
    created = Lead.objects.filter(import_job=job)
    assert created.count() == 3
    assert all(lead.created_by == admin_user and lead.stage == first_stage() for lead in created)
    history = StatusChange.objects.filter(lead__import_job=job)
    assert history.count() == 3
    assert {(h.from_stage_id, h.to_stage_id, h.by_id) for h in history} == {(None, first_stage().pk, admin_user.pk)}


@pytest.mark.parametrize(
    ("option", "expected_city", "expected_name", "updated", "duplicates"),
    [
        ("skip", "", "Old Name", 0, 1),
        ("fill", "Kochi", "Old Name", 1, 0),
        ("overwrite", "Kochi", "New Name", 1, 0),
    ],
)
def test_existing_lead_follows_the_duplicate_option(import_file, tmp_path, option, expected_city, expected_name,
                                                    updated, duplicates):
    existing = LeadFactory(phone="+919876500201", name="Old Name", city="", email="old@example.com")
    path = write_csv(tmp_path, [["Name", "Phone", "City"], ["New Name", "98765 00201", "Kochi"],
                                ["Someone New", "9876500202", "Pune"]])
    job = import_file(str(path), on_duplicate=option)
    assert (job.created, job.updated, job.duplicates) == (1, updated, duplicates)
    existing.refresh_from_db()
    assert (existing.city, existing.name) == (expected_city, expected_name)
    assert existing.email == "old@example.com"  # not mapped: never touched
    assert existing.import_job_id is None
    assert Lead.objects.filter(phone="+919876500201").count() == 1
    if updated:
        assert existing.version == 2


def test_email_is_the_identity_of_rows_without_a_phone_case_insensitively(import_file, tmp_path):
    existing = LeadFactory(phone=None, email="Solo@Example.com", name="Solo", city="")
    path = write_csv(tmp_path, [["Name", "Email", "Phone", "City"], ["Solo", "solo@example.com", "", "Kochi"],
                                ["With phone", "solo@example.com", "9876500211", "Pune"]])
    job = import_file(str(path), on_duplicate="fill")
    assert (job.created, job.updated) == (1, 1)
    existing.refresh_from_db()
    assert (existing.phone, existing.city) == (None, "Kochi")
    assert Lead.objects.get(phone="+919876500211").email == "solo@example.com"


def test_defaults_fill_rows_without_source_interest_and_stage(import_file, tmp_path):
    stage = stage_named("Interested")
    path = write_csv(tmp_path, [["Name", "Phone", "Source"], ["A", "9876500221", ""], ["B", "9876500222", "Walk-in"]])
    job = import_file(str(path), defaults={"source": "November fair", "interest": "MBA", "stage": stage.pk})
    got = {lead.name: (lead.source, lead.interest, lead.stage.name) for lead in Lead.objects.filter(import_job=job)}
    assert got == {"A": ("November fair", "MBA", "Interested"), "B": ("Walk-in", "MBA", "Interested")}
    assert StatusChange.objects.filter(lead__import_job=job, to_stage=stage).count() == 2


def test_distribution_shares_new_leads_across_counsellors_with_history(import_file, tmp_path):
    first = UserFactory(role="sales")
    second = UserFactory(role="sales")
    rows = [["Name", "Phone"]] + [[f"L{i}", f"98765003{i:02d}"] for i in range(10)]
    job = import_file(str(write_csv(tmp_path, rows)), distribute=True)
    assert job.status == "completed", job.message
    owners = list(Lead.objects.filter(import_job=job).values_list("assigned_to", flat=True))
    assert sorted([owners.count(first.pk), owners.count(second.pk)]) == [5, 5]
    assert job.distributed == 10
    assert Assignment.objects.filter(lead__import_job=job, method="import").count() == 10
    assert job.assignment_batch is not None


def test_revert_deletes_untouched_leads_and_keeps_worked_ones(import_file, admin_user, tmp_path):
    rows = [["Name", "Phone"]] + [[f"L{i}", f"98765004{i:02d}"] for i in range(6)]
    LeadFactory(phone="+919876500400", name="Existing")
    job = import_file(str(write_csv(tmp_path, rows)), on_duplicate="overwrite")
    assert (job.created, job.updated) == (5, 1)
    worked = Lead.objects.get(phone="+919876500401")
    ActivityFactory(lead=worked, by=admin_user)
    moved = Lead.objects.get(phone="+919876500402")
    from crm.leads.services import lead_change_status

    lead_change_status(lead=moved, stage=stage_named("Interested"), by=admin_user)
    result = import_revert(job=job, by=admin_user)
    assert result["deleted"] == 3
    assert result["kept"] == {"edited": 1, "activities": 1}
    assert set(Lead.objects.values_list("phone", flat=True)) == {"+919876500400", "+919876500401", "+919876500402"}
    job.refresh_from_db()
    assert job.status == "reverted"
    assert "deleted 3 leads" in job.message and "Kept 2" in job.message
    assert "1 existing leads it updated are left as they are" in job.message
    assert Activity.objects.filter(lead=worked).exists()
    assert not StatusChange.objects.filter(lead__phone="+919876500403").exists()


def test_a_second_revert_is_refused(import_file, admin_user):
    job = import_file("utf8_bom.csv")
    import_revert(job=job, by=admin_user)
    with pytest.raises(ValueError, match="already been reverted"):
        import_revert(job=ImportJob.objects.get(pk=job.pk), by=admin_user)


def test_cancel_of_a_queued_import_stops_it_before_any_row(admin_user):
    job = upload("utf8_bom.csv", admin_user)
    job = import_start(job=job, by=admin_user, enqueue_job=False)
    import_cancel(job=job, by=admin_user)
    assert run_import(job.pk) is None
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert Lead.objects.count() == 0


def test_cancel_while_running_keeps_saved_batches_and_stops(admin_user, settings, tmp_path):
    settings.IMPORT_BATCH_ROWS = 2
    rows = [["Name", "Phone"]] + [[f"L{i}", f"98765005{i:02d}"] for i in range(10)]
    job = upload(write_csv(tmp_path, rows), admin_user)
    job = import_start(job=job, by=admin_user, enqueue_job=False)

    def cancel_after_first_batch(rows_done):
        if rows_done >= 2:
            import_cancel(job=ImportJob.objects.get(pk=job.pk), by=admin_user)

    run_import(job.pk, progress=cancel_after_first_batch)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.created == Lead.objects.filter(import_job=job).count() == 2


def test_claim_is_single_a_second_run_does_nothing(admin_user):
    job = import_start(job=upload("utf8_bom.csv", admin_user), by=admin_user, enqueue_job=False)
    assert run_import(job.pk).status == "completed"
    assert run_import(job.pk) is None
    assert Lead.objects.count() == 3


def test_command_line_runs_the_same_pipeline_and_ends_with_json(admin_user, capsys):
    call_command("import_leads", str(fixture("title_rows.csv")), "--by", admin_user.email, "--source", "Fair",
                 "--quiet")
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    job = ImportJob.objects.get(pk=result["import_id"])
    assert result == {"import_id": job.pk, "status": "completed", "rows": 2, "created": 2, "updated": 0,
                      "duplicates": 0, "merged": 0, "errors": 0, "warnings": 0}
    assert job.source_label == "cli" and job.created_by == admin_user
    assert set(Lead.objects.values_list("source", flat=True)) == {"Fair"}


def test_command_line_failure_prints_the_whole_file_message(admin_user, capsys):
    with pytest.raises(SystemExit):
        call_command("import_leads", str(fixture("header_only.csv")), "--quiet")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["status"] == "failed"
    assert "header row but no data rows" in result["message"]


def test_rerunning_the_same_file_creates_nothing_new(import_file):
    first = import_file("utf8_bom.csv")
    second = import_file("utf8_bom.csv")
    assert (first.created, second.created, second.duplicates) == (3, 0, 3)
    assert Lead.objects.count() == 3
    assert ImportJob.objects.filter(status=ImportStatus.COMPLETED).count() == 2
