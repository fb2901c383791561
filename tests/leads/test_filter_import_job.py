import pytest
from django.urls import reverse

from crm.imports.models import ImportJob
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_list_narrows_to_the_leads_one_import_created(client_for, manager):
    job = ImportJob.objects.create(created_by=manager, status="completed")
    imported = LeadFactory(name="Imported Irene", import_job=job)
    LeadFactory(name="Typed-in Tara")
    response = client_for(manager).get(reverse("leads:list"), {"import_job": job.pk})
    assert response.status_code == 200
    assert imported.name in response.text
    assert "Typed-in Tara" not in response.text
