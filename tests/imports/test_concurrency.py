"""Two imports of overlapping files at the same time never create a duplicate lead (PostgreSQL: real
row locks and two writer threads per import)."""

import threading

import pytest
from django.db import connection

from crm.imports.services import import_automatic
from crm.leads.models import Lead

from .conftest import upload

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def write_file(path, phones, emails):
    lines = ["Name,Phone,Email"]
    phones, emails = list(phones), list(emails)
    for n in range(max(len(phones), len(emails))):  # phone rows and e-mail-only rows interleaved
        if n < len(phones):
            lines.append(f"P{phones[n]},98765{phones[n]:05d},p{phones[n]}@example.com")
        if n < len(emails):
            lines.append(f"E{emails[n]},,only{emails[n]}@example.com")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_overlapping_imports_at_the_same_time(admin_user, tmp_path, settings):
    settings.IMPORT_BATCH_ROWS = 100
    first = upload(write_file(tmp_path / "a.csv", range(0, 4000), range(0, 3000)), admin_user)
    second = upload(write_file(tmp_path / "b.csv", range(2000, 6000), range(0, 3500)), admin_user)
    results, failures = {}, []

    def run(job):
        try:
            results[job.pk] = import_automatic(job=job)
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    a, b = results[first.pk], results[second.pk]
    assert (a.status, b.status) == ("completed", "completed")
    assert Lead.objects.exclude(phone=None).values("phone").distinct().count() == 6000
    assert Lead.objects.filter(phone=None).values("email").distinct().count() == 3500
    assert Lead.objects.count() == 6000 + 3500
    assert a.created + b.created == 9500
    assert a.duplicates + b.duplicates == 2000 + 3000
