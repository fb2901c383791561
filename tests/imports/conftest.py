"""Helpers for the import tests: fixture files and running an import through the real pipeline."""

from pathlib import Path

import pytest
from django.core.files import File

from crm.imports.services import import_automatic, import_create_from_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> Path:
    return FIXTURES / name


def upload(name_or_path, by, original_name=None):
    path = Path(name_or_path) if Path(str(name_or_path)).is_absolute() else fixture(name_or_path)
    with path.open("rb") as handle:
        return import_create_from_file(by=by, file=File(handle, name=path.name), original_name=original_name or path.name)


def run(job, **options):
    """Set options, start without the queue, and run the import in this process (the CLI's path)."""
    return import_automatic(job=job, **options)


@pytest.fixture
def import_file(admin_user):
    def do(name, by=None, **options):
        return run(upload(name, by or admin_user), **options)

    return do


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads of a test go to its own folder (worker subprocesses get it through MEDIA_ROOT)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT
