"""RQ entry points (queue "default"). They take ids and call a service."""

import logging
from datetime import datetime, timedelta

import django_rq
from redis.exceptions import RedisError

from . import services

logger = logging.getLogger(__name__)
QUEUE = "default"


def export_run(export_id: int) -> int | None:
    """Write one export's file; returns the rows written (None when the export was already handled)."""
    export = services.export_run(export_id=export_id)
    if export is not None:
        schedule_cleanup(export.expires_at)
    services.exports_cleanup()  # sweep what has expired meanwhile: cheap, indexed
    return export.rows_written if export is not None else None


def exports_cleanup() -> dict:
    return services.exports_cleanup()


def enqueue_export(export) -> None:
    """Queue the export once the surrounding transaction commits (django-rq's on_db_commit mode)."""
    django_rq.get_queue(QUEUE).enqueue(
        export_run, export.pk, job_timeout=services.JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
        description=f"Export {export.uuid} ({export.row_count:,} rows)",
    )  # fmt: skip


def schedule_cleanup(when: datetime) -> None:
    """Ask the worker's scheduler (rqworker --with-scheduler) to delete the file once it expires.
    `manage.py exports_cleanup` does the same sweep from cron, should Redis lose the schedule."""
    try:
        django_rq.get_queue(QUEUE).enqueue_at(when + timedelta(minutes=1), exports_cleanup, result_ttl=600)
    except RedisError:
        logger.warning("Could not schedule the export clean-up; run manage.py exports_cleanup", exc_info=True)
