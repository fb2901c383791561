"""The import pages: permissions, upload (plain and chunked), mapping and preview, start, progress,
actions, the error file, and an unreachable queue at upload time."""

import csv
import io

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.imports.models import ImportJob, ImportStatus
from crm.imports.recovery import imports_recover
from crm.imports.services import WAITING_FOR_WORKER
from crm.leads.models import Lead
from tests.factories import UserFactory

from .conftest import fixture, upload

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def csv_upload(rows, name="leads.csv"):
    body = "\n".join(",".join(row) for row in rows).encode()
    return SimpleUploadedFile(name, body, content_type="text/csv")


ROWS = [
    ["Student Name", "Mobile", "E-mail", "Notes column"],
    ["Asha", "9876500301", "asha@example.com", "likes MBA"],
    ["Ravi", "9.87654E+09", "ravi@example.com", ""],
    ["Meena", "98765 00303", "MEENA@example.com", "=HYPERLINK(\"x\")"],
]


def test_sales_users_reach_no_import_url(client_for, sales, admin_user):
    job = upload("utf8_bom.csv", admin_user)
    client = client_for(sales)
    urls = [
        ("get", reverse("imports:list")), ("get", reverse("imports:new")), ("post", reverse("imports:new")),
        ("post", reverse("imports:upload_start")), ("get", reverse("imports:upload_status", args=[job.uuid])),
        ("post", reverse("imports:upload_chunk", args=[job.uuid])),
        ("post", reverse("imports:upload_complete", args=[job.uuid])),
        ("get", reverse("imports:detail", args=[job.pk])), ("get", reverse("imports:mapping", args=[job.pk])),
        ("post", reverse("imports:mapping", args=[job.pk])), ("post", reverse("imports:cancel", args=[job.pk])),
        ("post", reverse("imports:resume", args=[job.pk])), ("post", reverse("imports:revert", args=[job.pk])),
        ("get", reverse("imports:errors", args=[job.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPING


def test_signed_out_visitors_are_sent_to_sign_in(client, admin_user):
    job = upload("utf8_bom.csv", admin_user)
    for url in [reverse("imports:list"), reverse("imports:detail", args=[job.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_imports_are_shared_between_managers_and_admins(client_for, manager, admin_user, import_file):
    other = UserFactory(role="manager", email="other.manager@example.com")
    job = import_file("utf8_bom.csv", by=other)
    for user in (manager, admin_user):
        client = client_for(user)
        assert job.original_name in client.get(reverse("imports:list")).content.decode()
        assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 200


def test_upload_map_preview_start_and_watch_to_the_end(client_for, manager, rq_queues, run_jobs,
                                                       django_capture_on_commit_callbacks):
    client = client_for(manager)
    response = client.post(reverse("imports:new"), {"file": csv_upload(ROWS)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
    assert job.file == f"imports/{job.uuid}.upload"  # our name, never the uploaded one

    page = client.get(response["Location"]).content.decode()
    assert "+919876500303" in page  # the preview shows the phone as it will be stored
    assert "scientific notation" in page  # and the row's problem
    assert job.mapping == {"0": "name", "1": "phone", "2": "email", "3": "notes"}

    # The user ignores the notes column: the preview (an htmx partial) follows.
    data = {"col_0": "name", "col_1": "phone", "col_2": "email", "col_3": "", "header_row": "1",
            "on_duplicate": "skip", "day_first": "on", "source": "Fair", "interest": "", "action": "preview"}
    partial = client.post(reverse("imports:mapping", args=[job.pk]), data, headers=HX)
    assert partial.status_code == 200
    assert partial.content.decode().lstrip().startswith('<form id="mapping-form"')
    job.refresh_from_db()
    assert job.mapping == {"0": "name", "1": "phone", "2": "email"}

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("imports:mapping", args=[job.pk]), {**data, "action": "start"})
    assert started["Location"] == reverse("imports:detail", args=[job.pk])
    assert django_rq.get_queue("imports").count == 1
    polling = client.get(reverse("imports:detail", args=[job.pk]), headers=HX).content.decode()
    assert 'hx-trigger="every 1s"' in polling

    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.created, job.errors) == ("completed", 2, 1)
    assert set(Lead.objects.values_list("source", flat=True)) == {"Fair"}
    assert set(Lead.objects.values_list("notes", flat=True)) == {""}
    final = client.get(reverse("imports:detail", args=[job.pk]), headers=HX).content.decode()
    assert "every 1s" not in final  # polling stops at the end
    assert "100%" in final and f"?import_job={job.pk}" in final


def test_error_file_is_the_original_rows_plus_an_error_column(client_for, manager, import_file, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(",".join(row) for row in ROWS + [["Eve", "", "", "=cmd"]]))
    job = import_file(str(path), by=manager)
    response = client_for(manager).get(reverse("imports:errors", args=[job.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-errors.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Student Name", "Mobile", "E-mail", "Notes column", "error"]
    assert rows[1][:3] == ["Ravi", "9.87654E+09", "ravi@example.com"]
    assert "Mobile: “9.87654E+09” is a number Excel turned into scientific notation" in rows[1][4]
    assert rows[2][:4] == ["Eve", "", "", "'=cmd"]  # a formula never runs when the file is opened
    assert "no phone number and no e-mail" in rows[2][4]
    assert len(rows) == 3


def test_json_upload_answers_with_where_to_go_or_the_problem(client_for, manager):
    client = client_for(manager)
    good = client.post(reverse("imports:new"), {"file": csv_upload(ROWS)}, headers=JSON)
    job = ImportJob.objects.get()
    assert good.json() == {"redirect": reverse("imports:mapping", args=[job.pk])}
    with fixture("image.csv").open("rb") as handle:
        bad = client.post(reverse("imports:new"), {"file": handle}, headers=JSON)
    assert bad.status_code == 422
    assert "PNG image, not a spreadsheet" in bad.json()["error"]


def test_plain_upload_of_a_bad_file_shows_the_message_on_the_form(client_for, manager):
    with fixture("header_only.csv").open("rb") as handle:
        response = client_for(manager).post(reverse("imports:new"), {"file": handle})
    assert response.status_code == 422
    assert "no data" in response.content.decode() or "header row but no data rows" in response.content.decode()


def test_chunked_upload_resumes_after_a_dropped_connection(client_for, manager, settings):
    settings.IMPORT_CHUNK_BYTES = 64
    body = fixture("utf8_bom.csv").read_bytes()
    client = client_for(manager)
    state = client.post(reverse("imports:upload_start"), {"name": "big.csv", "size": len(body)}).json()
    assert state["chunks"] == 3 and state["received"] == []
    upload_id = state["upload_id"]

    def send(index, data=None):
        data = data if data is not None else body[index * 64 : (index + 1) * 64]
        return client.post(reverse("imports:upload_chunk", args=[upload_id]),
                           {"index": str(index), "chunk": SimpleUploadedFile("chunk", data)})

    assert send(0).json()["received"] == [0]
    assert send(2).json()["received"] == [0, 2]
    # The connection drops; the page asks what arrived and sends only the rest.
    assert client.get(reverse("imports:upload_status", args=[upload_id])).json()["received"] == [0, 2]
    early = client.post(reverse("imports:upload_complete", args=[upload_id]))
    assert early.status_code == 422 and "first missing: 1" in early.json()["error"]
    assert send(1, b"short").status_code == 422
    assert send(0).json()["received"] == [0, 2]  # a repeated chunk is harmless
    assert send(1).json()["received"] == [0, 1, 2]
    done = client.post(reverse("imports:upload_complete", args=[upload_id]), headers=JSON)
    job = ImportJob.objects.get(uuid=upload_id)
    assert done.json() == {"redirect": reverse("imports:mapping", args=[job.pk])}
    assert job.status == "mapping" and job.file_size == len(body) and job.columns == ["Name", "Phone", "Email", "City"]
    assert job.chunks.count() == 0


def test_chunked_upload_refuses_a_file_above_the_limit(client_for, manager, settings):
    settings.IMPORT_MAX_BYTES = 1000
    response = client_for(manager).post(reverse("imports:upload_start"), {"name": "huge.csv", "size": 5000})
    assert response.status_code == 422
    assert "an import takes at most" in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_another_users_upload_cannot_be_continued(client_for, manager, admin_user):
    job = ImportJob.objects.create(created_by=admin_user, status="uploading", file_size=10)
    response = client_for(manager).get(reverse("imports:upload_status", args=[job.uuid]))
    assert response.status_code == 404


def test_upload_is_kept_when_the_queue_is_down_and_runs_when_it_is_back(
    client_for, manager, settings, rq_queues, run_jobs, django_capture_on_commit_callbacks
):
    working = settings.RQ_QUEUES
    settings.RQ_QUEUES = {**working, "imports": {**working["imports"], "URL": "redis://127.0.0.1:1/0"}}
    client = client_for(manager)
    client.post(reverse("imports:new"), {"file": csv_upload(ROWS)})
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:mapping", args=[job.pk]), {
            "col_0": "name", "col_1": "phone", "col_2": "email", "header_row": "1", "on_duplicate": "skip",
            "action": "start"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.message) == ("queued", WAITING_FOR_WORKER)
    assert "starts by itself as soon as the queue is back" in client.get(response["Location"]).content.decode()

    settings.RQ_QUEUES = working
    assert imports_recover()["requeued"] == 1
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.created, job.message) == ("completed", 2, "")


def test_cancel_resume_and_revert_buttons(client_for, manager, admin_user, import_file, rq_queues,
                                          django_capture_on_commit_callbacks):
    client = client_for(manager)
    job = import_file("utf8_bom.csv")
    response = client.post(reverse("imports:revert", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "reverted" and Lead.objects.count() == 0
    assert "deleted 3 leads" in client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    again = client.post(reverse("imports:revert", args=[job.pk]), headers=HX)
    assert again.status_code == 409 and "already been reverted" in again["X-Error-Message"]

    stalled = upload("leads.xlsx", admin_user)
    ImportJob.objects.filter(pk=stalled.pk).update(status=ImportStatus.INTERRUPTED, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:resume", args=[stalled.pk]))
    stalled.refresh_from_db()
    assert stalled.status == "queued"
    client.post(reverse("imports:cancel", args=[stalled.pk]))
    stalled.refresh_from_db()
    assert stalled.status == "cancelled"


def test_a_file_above_the_limit_is_refused_before_it_is_read(client_for, manager, settings):
    settings.IMPORT_MAX_BYTES = 2000
    body = "Name,Phone\n" + "x,9876500000\n" * 10_000
    response = client_for(manager).post(reverse("imports:new"), {"file": csv_upload([[body]])}, headers=JSON)
    assert response.status_code == 413
    assert "an import takes at most" in response.json()["error"]
    assert not ImportJob.objects.exists()


def test_upload_still_needs_the_csrf_token(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(reverse("imports:new"), {"file": csv_upload(ROWS)})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_mapping_problems_show_while_mapping(client_for, manager, admin_user):
    job = upload("utf8_bom.csv", admin_user)
    data = {"col_0": "name", "col_1": "name", "col_2": "", "col_3": "city", "header_row": "1",
            "on_duplicate": "skip", "action": "preview"}
    page = client_for(manager).post(reverse("imports:mapping", args=[job.pk]), data, headers=HX).content.decode()
    assert "No column is mapped to Phone or E-mail" in page
    assert "Name is mapped to more than one column" in page
    start = client_for(manager).post(reverse("imports:mapping", args=[job.pk]), {**data, "action": "start"})
    assert start.status_code == 422
    job.refresh_from_db()
    assert job.status == "mapping"


def test_an_upload_can_be_discarded_at_the_mapping_step(client_for, manager, admin_user):
    job = upload("utf8_bom.csv", admin_user)
    client = client_for(manager)
    assert "Discard this upload" in client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    client.post(reverse("imports:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert client.get(reverse("imports:mapping", args=[job.pk]))["Location"] == reverse("imports:detail", args=[job.pk])


def test_abandoned_chunked_uploads_are_cleaned_up(client_for, manager, settings):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    settings.IMPORT_CHUNK_BYTES = 64
    client = client_for(manager)
    state = client.post(reverse("imports:upload_start"), {"name": "big.csv", "size": 200}).json()
    client.post(reverse("imports:upload_chunk", args=[state["upload_id"]]),
                {"index": "0", "chunk": SimpleUploadedFile("chunk", b"x" * 64)})
    job = ImportJob.objects.get()
    piece = job.chunks.get().file
    assert default_storage.exists(piece)
    assert imports_recover()["abandoned_uploads"] == 0  # a fresh upload is left alone
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert imports_recover()["abandoned_uploads"] == 1
    job.refresh_from_db()
    assert job.status == "cancelled" and not default_storage.exists(piece) and not job.chunks.exists()
