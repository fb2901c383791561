"""Every assignment URL × role: managers and admins get in; sales users get 403 and nothing changes;
signed-out visitors are sent to the login page."""

import pytest
from django.urls import reverse

from crm.assignment.models import Assignment, AssignmentBatch
from crm.assignment.services import leads_assign
from crm.leads.models import Lead
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(manager):
    counsellor = UserFactory(role="sales", email="anu@example.com", full_name="Anu A")
    free = LeadFactory()
    own = LeadFactory(assigned_to=counsellor)
    batch = leads_assign(lead_ids=[LeadFactory().pk], to_user=counsellor, by=manager)
    return {"counsellor": counsellor, "free": free, "own": own, "batch": batch}


def requests_for(world):
    c, free, batch = world["counsellor"], world["free"], world["batch"]
    ids = {"lead_ids": [free.pk, world["own"].pk]}
    return [
        ("get", reverse("assignment:unassigned"), {}),
        ("get", reverse("assignment:batch_list"), {}),
        ("get", reverse("assignment:batch_detail", args=[batch.pk]), {}),
        ("post", reverse("assignment:batch_undo", args=[batch.pk]), {}),
        ("post", reverse("assignment:bulk_preview"), {"action": "assign", "to_user": c.pk, **ids}),
        ("post", reverse("assignment:bulk_apply"), {"action": "unassign", "token": "x"}),
        ("post", reverse("assignment:random_assign"), ids),
        ("post", reverse("assignment:next_preview"), {"n": 5, "to_user": c.pk, "order": "oldest"}),
        ("post", reverse("assignment:next_apply"), {"n": 5, "to_user": c.pk, "order": "oldest"}),
        ("post", reverse("assignment:lead_assign", args=[free.uuid]), {"to_user": c.pk, "owner": ""}),
        ("post", reverse("assignment:lead_assign", args=[world["own"].uuid]), {"to_user": "", "owner": c.pk}),
    ]


def state():
    return (
        list(Lead.objects.order_by("pk").values_list("pk", "assigned_to_id", "version")),
        Assignment.objects.count(),
        list(AssignmentBatch.objects.order_by("pk").values_list("pk", "undone_at")),
    )


def test_sales_users_are_refused_everywhere_and_nothing_changes(client_for, world):
    """Even the counsellor who owns a lead cannot reassign or unassign it, nor undo, nor see any page."""
    before = state()
    client = client_for(world["counsellor"])
    for method, url, data in requests_for(world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        response = getattr(client, method)(url, data, headers={"HX-Request": "true"})
        assert response.status_code == 403, (method, url)
    assert state() == before


def test_signed_out_visitors_go_to_the_login_page(client, world):
    before = state()
    for method, url, data in requests_for(world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), (method, url)
    assert client.get(reverse("assignment:new_for_me")).status_code == 302
    assert state() == before


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_reach_every_assignment_url(client_for, world, role):
    user = UserFactory(role=role, email=f"{role}2@example.com")
    client = client_for(user)
    for method, url, data in requests_for(world):
        response = getattr(client, method)(url, data)
        assert response.status_code in {200, 302, 422}, (method, url, response.status_code)
        assert response.status_code != 403


@pytest.mark.parametrize("role", ["sales", "manager", "admin"])
def test_everyone_signed_in_has_a_new_for_me_page(client_for, role):
    user = UserFactory(role=role, email=f"{role}3@example.com")
    assert client_for(user).get(reverse("assignment:new_for_me")).status_code == 200


def test_http_methods_are_enforced(client_for, manager, world):
    client = client_for(manager)
    assert client.get(reverse("assignment:bulk_apply")).status_code == 405
    assert client.get(reverse("assignment:batch_undo", args=[world["batch"].pk])).status_code == 405
    assert client.post(reverse("assignment:unassigned")).status_code == 405
    assert client.get(reverse("assignment:lead_assign", args=[world["free"].uuid])).status_code == 405


def test_unknown_lead_or_batch_answers_404(client_for, manager):
    import uuid

    client = client_for(manager)
    assert client.post(reverse("assignment:lead_assign", args=[uuid.uuid4()]), {"to_user": ""}).status_code == 404
    assert client.get(reverse("assignment:batch_detail", args=[999999])).status_code == 404
    assert client.post(reverse("assignment:batch_undo", args=[999999])).status_code == 404
