import pytest
from django.urls import reverse

from crm.leads.models import Stage
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


def active_names():
    return list(Stage.objects.filter(is_active=True).order_by("position", "id").values_list("name", flat=True))


def test_add_a_stage_at_the_end(admin_client, htmx):
    response = admin_client.post(reverse("leads:stage_create"),
                                 {"name": "Scholarship", "colour": "#123456", "kind": "open"}, headers=htmx)
    assert response.status_code == 200 and "Scholarship" in response.content.decode()
    assert active_names()[-1] == "Scholarship"


def test_duplicate_name_and_bad_colour_are_refused(admin_client, htmx):
    response = admin_client.post(reverse("leads:stage_create"), {"name": "new", "colour": "red", "kind": "open"}, headers=htmx)
    assert response.status_code == 422
    html = response.content.decode()
    assert "There is already a stage called “new”." in html and "Use a colour such as #0d6efd." in html


def test_rename_and_recolour(admin_client, stages, htmx):
    stage = stages["Valid"]
    admin_client.post(reverse("leads:stage_edit", args=[stage.pk]), {
        f"stage-{stage.pk}-name": "Verified", f"stage-{stage.pk}-colour": "#00AA00", f"stage-{stage.pk}-kind": "open",
    }, headers=htmx)
    stage.refresh_from_db()
    assert (stage.name, stage.colour) == ("Verified", "#00aa00")


def test_reorder(admin_client, stages, htmx):
    before = active_names()
    admin_client.post(reverse("leads:stage_move", args=[stages["Valid"].pk]), {"direction": "up"}, headers=htmx)
    after = active_names()
    i = before.index("Valid")
    assert after[i - 1] == "Valid" and after[i] == before[i - 1]


def test_deactivate_and_reactivate(admin_client, stages, htmx):
    admin_client.post(reverse("leads:stage_toggle", args=[stages["Valid"].pk]), headers=htmx)
    assert "Valid" not in active_names()
    admin_client.post(reverse("leads:stage_toggle", args=[stages["Valid"].pk]), headers=htmx)
    assert active_names()[-1] == "Valid"


def test_a_stage_in_use_cannot_be_deleted(admin_client, stages, htmx):
    LeadFactory(stage=stages["Valid"])
    response = admin_client.post(reverse("leads:stage_delete", args=[stages["Valid"].pk]), headers=htmx)
    assert response.status_code == 409
    assert "in use" in response["X-Error-Message"]
    assert Stage.objects.filter(pk=stages["Valid"].pk).exists()


def test_an_unused_stage_is_deleted(admin_client, stages, htmx):
    response = admin_client.post(reverse("leads:stage_delete", args=[stages["Valid"].pk]), headers=htmx)
    assert response.status_code == 200
    assert not Stage.objects.filter(pk=stages["Valid"].pk).exists()


def test_the_last_active_stage_stays(admin_client, htmx):
    keep = Stage.objects.filter(is_active=True).order_by("position").first()
    Stage.objects.exclude(pk=keep.pk).update(is_active=False)
    response = admin_client.post(reverse("leads:stage_toggle", args=[keep.pk]), headers=htmx)
    assert response.status_code == 409
    keep.refresh_from_db()
    assert keep.is_active


def test_load_pipeline_command_switches_preset(db):
    from django.core.management import call_command

    call_command("load_pipeline", "sales")
    assert active_names() == ["Interest", "Meeting booked", "Proposal sent", "Closed win", "Closed lost"]
    assert not Stage.objects.get(name="New").is_active  # kept for the leads that use it, not deleted
