"""RQ entry points (queue "default"): thin, they take ids and call a service."""

import django_rq
from rq import Callback

from . import services

QUEUE = "default"
JOB_TIMEOUT = 3600


def run_batch(batch_id: int) -> str | None:
    batch = services.batch_run_queued(batch_id=batch_id)
    return batch.state if batch is not None else None


def batch_job_failed(job, connection, type, value, traceback):  # noqa: A002 - RQ's callback signature
    services.batch_mark_failed(
        batch_id=job.args[0], error=f"The worker could not finish it ({type.__name__}); nothing was changed. Try again."
    )


def enqueue_batch(batch) -> None:
    """Queue the batch once the surrounding transaction commits (django-rq's on_db_commit mode)."""
    django_rq.get_queue(QUEUE).enqueue(
        run_batch, batch.pk, job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
        on_failure=Callback(batch_job_failed), description=f"Bulk action #{batch.pk} ({batch.count:,} leads)",
    )
