"""Signed download links: signature, expiry, and refusal for anyone but the user who made the export."""

from datetime import timedelta

import pytest
from django.core import signing
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from crm.exports import links, services
from crm.exports.models import ExportJob, ExportStatus
from tests.factories import LeadFactory

from .conftest import read_csv, response_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_export(manager):
    lead = LeadFactory(name="Asha")
    export = services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    return services.export_run(export_id=export.pk)


def test_the_link_names_the_export_and_the_user_and_is_signed(ready_export, manager):
    token = links.download_token(ready_export)
    payload = signing.loads(token, salt=links.SALT)
    assert payload["e"] == ready_export.pk and payload["u"] == manager.pk
    assert links.export_for_token(manager, token) == ready_export


def test_the_owner_downloads_the_file(ready_export, client_for, manager):
    response = client_for(manager).get(links.download_url(ready_export))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    assert read_csv(response_bytes(response)) == [["Name"], ["Asha"]]


def test_another_user_gets_404_even_an_admin(ready_export, client_for, admin_user, other_sales):
    url = links.download_url(ready_export)
    assert client_for(admin_user).get(url).status_code == 404
    assert client_for(other_sales).get(url).status_code == 404
    with pytest.raises(Http404):
        links.export_for_token(other_sales, links.download_token(ready_export))


def test_a_signed_link_for_someone_elses_export_is_refused(ready_export, other_sales):
    forged = signing.dumps({"e": ready_export.pk, "u": other_sales.pk, "x": 2_000_000_000}, salt=links.SALT)
    with pytest.raises(Http404):
        links.export_for_token(other_sales, forged)


def test_a_tampered_or_unsigned_token_is_404(ready_export, client_for, manager):
    token = links.download_token(ready_export)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client_for(manager).get(reverse("exports:download", args=[tampered])).status_code == 404
    other_salt = signing.dumps({"e": ready_export.pk, "u": manager.pk, "x": 2_000_000_000})
    assert client_for(manager).get(reverse("exports:download", args=[other_salt])).status_code == 404


def test_a_signed_out_visitor_is_sent_to_sign_in(ready_export, client):
    response = client.get(links.download_url(ready_export))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_link_expires_after_the_configured_hours(ready_export, client_for, manager, settings):
    assert ready_export.expires_at - ready_export.finished_at == timedelta(hours=settings.EXPORT_LINK_HOURS)
    url = links.download_url(ready_export)
    later = ready_export.expires_at + timedelta(seconds=1)
    with pytest.raises(links.LinkExpired):
        links.export_for_token(manager, links.download_token(ready_export), now=later)
    ExportJob.objects.filter(pk=ready_export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(manager).get(url)
    assert response.status_code == 410
    assert "expired" in response.text


def test_link_of_an_expired_and_cleaned_up_export_is_gone(ready_export, client_for, manager):
    url = links.download_url(ready_export)
    ExportJob.objects.filter(pk=ready_export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    services.exports_cleanup()
    assert ExportJob.objects.get(pk=ready_export.pk).status == ExportStatus.EXPIRED
    assert client_for(manager).get(url).status_code == 410


def test_a_file_missing_from_storage_answers_gone_not_an_error(ready_export, client_for, manager):
    from django.core.files.storage import default_storage

    default_storage.delete(ready_export.file)
    assert client_for(manager).get(links.download_url(ready_export)).status_code == 410
