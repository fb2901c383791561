"""A real worker process killed (SIGKILL) in the middle of an import, the import shown as interrupted,
resumed by a new worker: the result is exactly the clean run's."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crm.imports.models import ImportJob, ImportStatus
from crm.imports.recovery import imports_recover
from crm.imports.revert import import_revert
from crm.imports.services import import_automatic, import_resume, import_set_options, import_start
from crm.leads.models import Lead, StatusChange

from .conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 12_000
BATCH = 200


def make_file(path: Path) -> Path:
    lines = ["Name,Phone,Email"]
    for i in range(ROWS):
        if i % 997 == 5:
            lines.append(f"Repeat of {i - 3},98765{(i - 3):05d},")  # repeats an earlier row (maybe another batch)
        elif i % 1499 == 7:
            lines.append(f"Broken {i},9.87654E+09,")
        else:
            lines.append(f"Lead {i},98765{i:05d},lead{i}@example.com")
    path.write_text("\n".join(lines) + "\n")
    return path


def worker_env():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "IMPORT_BATCH_ROWS": str(BATCH),
           "MEDIA_ROOT": str(settings.MEDIA_ROOT), "VAR_DIR": str(settings.VAR_DIR),
           "IMPORT_HEARTBEAT_SECONDS": "1"}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{Path(db['NAME']).resolve()}?timeout=20&transaction_mode=IMMEDIATE"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        if db.get("PASSWORD"):
            env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    return env


def start_worker():
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "imports", "--burst", "--worker-class", "rq.SimpleWorker"],
        cwd=settings.BASE_DIR, env=worker_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def outcome(job):
    job.refresh_from_db()
    leads = sorted(Lead.objects.filter(import_job=job).values_list("phone", "email", "name"))
    errors = list(job.row_errors.order_by("row_number").values_list("row_number", "column", "reason"))
    counts = (job.status, job.rows_read, job.created, job.duplicates, job.merged, job.errors)
    history = StatusChange.objects.filter(lead__import_job=job).count()
    return counts, leads, errors, history


def test_killed_worker_then_resume_gives_exactly_the_clean_result(admin_user, tmp_path, rq_queues, settings):
    path = make_file(tmp_path / "leads.csv")
    job = import_start(job=import_set_options(job=upload(path, admin_user), on_duplicate="skip"), by=admin_user)
    assert rq_queues[1].count == 1  # on the imports queue

    worker = start_worker()
    deadline = time.monotonic() + 300
    while True:
        job.refresh_from_db()
        if job.checkpoint_row >= 2 * BATCH or worker.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING, "the worker finished before it could be killed"
    saved = job.checkpoint_row
    assert 0 < saved < ROWS
    assert Lead.objects.filter(import_job=job).count() == job.created  # batches commit with their checkpoint

    settings.IMPORT_STALE_SECONDS = 0  # the heartbeat has stopped: a sweep now sees the run as stalled
    time.sleep(0.01)
    assert imports_recover(worker_alive=False)["interrupted"] == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.INTERRUPTED and "Resume continues" in job.message

    import_resume(job=job)
    resumed = start_worker()
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()[-2000:]
    killed_then_resumed = outcome(job)
    assert killed_then_resumed[0][0] == ImportStatus.COMPLETED, ImportJob.objects.get(pk=job.pk).message
    assert ImportJob.objects.get(pk=job.pk).attempts == 2

    # The same file in one clean run (after removing the first import's leads).
    import_revert(job=ImportJob.objects.get(pk=job.pk), by=admin_user)
    assert not Lead.objects.exists()
    clean = import_automatic(job=upload(path, admin_user), on_duplicate="skip")
    clean_outcome = outcome(clean)
    assert killed_then_resumed[0] == clean_outcome[0]
    assert killed_then_resumed[1:] == clean_outcome[1:]
    repeats = len([i for i in range(ROWS) if i % 997 == 5])
    broken = len([i for i in range(ROWS) if i % 1499 == 7 and i % 997 != 5])
    assert clean_outcome[0] == ("completed", ROWS, ROWS - repeats - broken, 0, repeats, broken)
    assert clean_outcome[3] == ROWS - repeats - broken  # one StatusChange per created lead
    assert Lead.objects.values("phone").distinct().count() == Lead.objects.count()


def test_periodic_sweep_resumes_a_stalled_import_when_a_worker_runs_it(admin_user, rq_queues, run_jobs, settings):
    from datetime import timedelta

    from django.utils import timezone

    from crm.imports.jobs import sweep_imports_job
    from crm.imports.recovery import SWEEP_JOB_ID

    job = import_start(job=upload("utf8_bom.csv", admin_user), by=admin_user, enqueue_job=False)
    # A run that claimed the import and then vanished (its worker was killed before its first batch).
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    from rq.registry import ScheduledJobRegistry

    registry = ScheduledJobRegistry(queue=rq_queues[1])
    for job_id in registry.get_job_ids():
        registry.remove(job_id)
    rq_queues[1].enqueue(sweep_imports_job)
    run_jobs()  # the sweep marks it interrupted, resumes it; the same burst then runs the import
    job.refresh_from_db()
    assert (job.status, job.created, job.attempts) == ("completed", 3, 2)
    scheduled = ScheduledJobRegistry(queue=rq_queues[1]).get_job_ids()
    assert [job_id for job_id in scheduled if job_id.startswith(SWEEP_JOB_ID)]  # it runs again in a minute


def test_recover_command_reports_what_it_did(admin_user, rq_queues, capsys):
    import json as _json
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    job = import_start(job=upload("utf8_bom.csv", admin_user), by=admin_user, enqueue_job=False)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    call_command("import_recover")
    result = _json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["interrupted"] == 1
    job.refresh_from_db()
    assert job.status in {"interrupted", "queued"}  # queued when a live worker is registered
