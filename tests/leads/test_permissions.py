"""Every lead URL × every role. A sales user reaching another counsellor's lead gets 404 and nothing changes;
sales users get 403 on managers' and admins' pages; anonymous users are sent to sign in."""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from crm.leads.models import Activity, FollowUp, Lead, Stage, StatusChange
from tests.factories import FollowUpFactory, LeadFactory, UserFactory, stage_named

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "owner", "other_sales", "manager", "admin"]


@pytest.fixture
def world(sales):
    lead = LeadFactory(assigned_to=sales, name="Owned", phone="+919876500001")
    follow_up = FollowUpFactory(lead=lead, owner=sales, due_at=timezone.now() + timedelta(days=1))
    return {"lead": lead, "follow_up": follow_up}


@pytest.fixture
def as_role(client, sales, other_sales, manager, admin_user):
    users = {"owner": sales, "other_sales": other_sales, "manager": manager, "admin": admin_user}

    def sign_in(role):
        if role != "anonymous":
            client.force_login(users[role])
        return client

    return sign_in


def snapshot(lead):
    row = Lead.objects.filter(pk=lead.pk).first()
    return (model_to_dict(row) if row else None, StatusChange.objects.count(), Activity.objects.count(),
            list(FollowUp.objects.values_list("pk", "due_at", "done_at")), Stage.objects.count())


def requests_for(world):
    lead, follow_up = world["lead"], world["follow_up"]
    due = timezone.localtime(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    valid = stage_named("Valid").pk
    return {
        "detail": ("get", reverse("leads:detail", args=[lead.uuid]), None),
        "edit_page": ("get", reverse("leads:edit", args=[lead.uuid]), None),
        "edit": ("post", reverse("leads:edit", args=[lead.uuid]), {"name": "Changed", "phone": lead.phone}),
        "delete_page": ("get", reverse("leads:delete", args=[lead.uuid]), None),
        "delete": ("post", reverse("leads:delete", args=[lead.uuid]), {}),
        "outcome": ("post", reverse("leads:record_outcome", args=[lead.uuid]), {"stage": valid, "version": lead.version}),
        "activity": ("post", reverse("leads:log_activity", args=[lead.uuid]), {"kind": "call", "body": "Hi"}),
        "follow_up_complete": ("post", reverse("leads:follow_up_complete", args=[follow_up.pk]), {}),
        "follow_up_reschedule": ("post", reverse("leads:follow_up_reschedule", args=[follow_up.pk]), {"due_at": due}),
    }


# Expected status per URL for: anonymous, owner, other_sales, manager, admin
LEAD_MATRIX = {
    "detail": (302, 200, 404, 200, 200),
    "edit_page": (302, 200, 404, 200, 200),
    "edit": (302, 302, 404, 302, 302),
    "delete_page": (302, 403, 404, 200, 200),
    "delete": (302, 403, 404, 302, 302),
    "outcome": (302, 302, 404, 302, 302),
    "activity": (302, 302, 404, 302, 302),
    "follow_up_complete": (302, 302, 404, 302, 302),
    "follow_up_reschedule": (302, 302, 404, 302, 302),
}


@pytest.mark.parametrize("name", LEAD_MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_lead_urls_by_role(as_role, world, role, name):
    method, url, data = requests_for(world)[name]
    expected = LEAD_MATRIX[name][ROLES.index(role)]
    before = snapshot(world["lead"])
    client = as_role(role)
    response = client.get(url) if method == "get" else client.post(url, data)
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith(reverse("accounts:login"))
    refused = role in ("anonymous", "other_sales") or expected == 403
    if refused or method == "get":
        assert snapshot(world["lead"]) == before  # refused (or only read): nothing changed
    else:
        assert snapshot(world["lead"]) != before  # allowed: it did something


PAGE_MATRIX = {
    "leads:list": (302, 200, 200, 200, 200),
    "leads:create": (302, 200, 200, 200, 200),
    "leads:follow_ups": (302, 200, 200, 200, 200),
    "leads:company_list": (302, 200, 200, 200, 200),
    "leads:stage_list": (302, 403, 403, 403, 200),
}


@pytest.mark.parametrize("name", PAGE_MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(as_role, world, role, name):
    response = as_role(role).get(reverse(name))
    assert response.status_code == PAGE_MATRIX[name][ROLES.index(role)]


@pytest.mark.parametrize("role, expected", [("anonymous", 302), ("owner", 403), ("manager", 403), ("admin", 302)])
def test_stage_changes_are_for_admins_only(as_role, db, role, expected):
    count = Stage.objects.count()
    stage = Stage.objects.get(name="Valid")
    client = as_role(role)
    assert client.post(reverse("leads:stage_create"), {"name": "X", "colour": "#000000", "kind": "open"}).status_code == expected
    assert client.post(reverse("leads:stage_toggle", args=[stage.pk])).status_code == expected
    stage.refresh_from_db()
    unchanged = Stage.objects.count() == count and stage.is_active
    assert unchanged is (role != "admin")


def test_company_page_shows_a_sales_user_only_their_leads_of_it(as_role, world, other_sales):
    from tests.factories import CompanyFactory

    company = CompanyFactory()
    Lead.objects.filter(pk=world["lead"].pk).update(company=company)
    response = as_role("other_sales").get(reverse("leads:company_detail", args=[company.pk]))
    assert response.status_code == 200 and response.context["page"].leads == []


def test_sales_user_creating_a_lead_cannot_give_it_away_or_forge_its_creator(as_role, sales, other_sales):
    as_role("owner").post(reverse("leads:create"), {
        "name": "Mine", "stage": stage_named("New").pk, "counsellor": other_sales.pk, "assigned_to": other_sales.pk,
        "created_by": other_sales.pk, "version": 77,
    })
    lead = Lead.objects.get(name="Mine")
    assert (lead.assigned_to, lead.created_by, lead.version) == (sales, sales, 1)


def test_sales_user_cannot_use_outcome_to_touch_another_lead_by_uuid(as_role, others_lead):
    before = snapshot(others_lead)
    response = as_role("owner").post(reverse("leads:record_outcome", args=[others_lead.uuid]),
                                     {"stage": stage_named("Admission").pk, "version": others_lead.version},
                                     headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert snapshot(others_lead) == before


def test_inactive_user_is_signed_out(as_role, sales, world):
    client = as_role("owner")
    UserFactory._meta.model.objects.filter(pk=sales.pk).update(is_active=False)
    response = client.get(reverse("leads:detail", args=[world["lead"].uuid]))
    assert response.status_code == 302
