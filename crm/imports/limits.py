"""Limits of the import pipeline: the IMPORT_* settings (crm.settings reads them from the environment, so
worker processes started with IMPORT_* variables get them too), read when used."""

from django.conf import settings


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def chunk_threshold() -> int:
    return settings.IMPORT_CHUNK_THRESHOLD_BYTES


def chunk_size() -> int:
    return settings.IMPORT_CHUNK_BYTES


def zip_max_entries() -> int:
    return settings.IMPORT_ZIP_MAX_ENTRIES


def zip_max_uncompressed() -> int:
    return settings.IMPORT_ZIP_MAX_UNCOMPRESSED_BYTES


def zip_max_ratio() -> int:
    return settings.IMPORT_ZIP_MAX_RATIO


def batch_rows() -> int:
    return settings.IMPORT_BATCH_ROWS


def stale_seconds() -> int:
    """A running import whose heartbeat is older than this is shown as interrupted."""
    return settings.IMPORT_STALE_SECONDS


def heartbeat_seconds() -> float:
    return settings.IMPORT_HEARTBEAT_SECONDS


def job_timeout() -> int:
    return settings.IMPORT_JOB_TIMEOUT


def auto_resume_attempts() -> int:
    return settings.IMPORT_AUTO_RESUME_ATTEMPTS


def text_max_chars() -> int:
    """The documented maximum of the free-text fields (remark, notes) in an import."""
    return settings.IMPORT_TEXT_MAX_CHARS


def writers() -> int:
    """Batches written at once on PostgreSQL."""
    return settings.IMPORT_WRITERS
