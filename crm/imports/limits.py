"""Limits of the import pipeline: from settings, else from the environment (worker processes started
with IMPORT_* variables), else the defaults here."""

import os

from django.conf import settings


def setting(name, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    value = os.environ.get(name)
    if value not in (None, ""):
        return type(default)(value)
    return default


def max_bytes() -> int:
    return setting("IMPORT_MAX_BYTES", 200 * 1024 * 1024)


def max_rows() -> int:
    return setting("IMPORT_MAX_ROWS", 2_000_000)


def chunk_threshold() -> int:
    return setting("IMPORT_CHUNK_THRESHOLD_BYTES", 10 * 1024 * 1024)


def chunk_size() -> int:
    return setting("IMPORT_CHUNK_BYTES", 4 * 1024 * 1024)


def zip_max_entries() -> int:
    return setting("IMPORT_ZIP_MAX_ENTRIES", 10_000)


def zip_max_uncompressed() -> int:
    return setting("IMPORT_ZIP_MAX_UNCOMPRESSED_BYTES", 1536 * 1024 * 1024)


def zip_max_ratio() -> int:
    return setting("IMPORT_ZIP_MAX_RATIO", 250)


def batch_rows() -> int:
    return setting("IMPORT_BATCH_ROWS", 10_000)


def stale_seconds() -> int:
    """A running import whose heartbeat is older than this is shown as interrupted."""
    return setting("IMPORT_STALE_SECONDS", 60)


def heartbeat_seconds() -> float:
    return setting("IMPORT_HEARTBEAT_SECONDS", 5)


def job_timeout() -> int:
    return setting("IMPORT_JOB_TIMEOUT", 6 * 3600)


def auto_resume_attempts() -> int:
    return setting("IMPORT_AUTO_RESUME_ATTEMPTS", 5)


def text_max_chars() -> int:
    """The documented maximum of the free-text fields (remark, notes) in an import."""
    return setting("IMPORT_TEXT_MAX_CHARS", 5000)


def writers() -> int:
    """Batches written at once on PostgreSQL."""
    return setting("IMPORT_WRITERS", 2)
