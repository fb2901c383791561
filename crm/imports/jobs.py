"""RQ entry points: thin, taking ids."""

from rq import get_current_job


def run_import_job(job_id: int):
    from .pipeline import run_import

    current = get_current_job()
    job = run_import(job_id, rq_job_id=current.id if current else "")
    return job.status if job else "not claimed"


def revert_import_job(job_id: int, by_id: int | None):
    from crm.accounts.models import User

    from .models import ImportJob
    from .revert import import_revert

    job = ImportJob.objects.get(pk=job_id)
    by = User.objects.filter(pk=by_id).first() if by_id else None
    return import_revert(job=job, by=by)


def sweep_imports_job():
    """Periodic recovery (scheduled by itself through the worker's scheduler, see recovery.py)."""
    from .recovery import ensure_sweeper, imports_recover

    result = imports_recover(worker_alive=True)
    ensure_sweeper()
    return result
