"""Counsellors see only their own numbers on every page and fragment; manager pages answer 403 to them."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
OTHERS = ["L5", "L6", "L7", "L8", "L9", "Salma Sales"]


@pytest.mark.parametrize("target", ["", "dashboard-body", "counsellor-table"])
def test_manager_dashboard_is_forbidden_to_counsellors(client_for, data, target):
    headers = {**HTMX, "HX-Target": target} if target else {}
    response = client_for(data.A).get(reverse("dashboards:manager"), {"counsellor": data.B.pk}, headers=headers)
    assert response.status_code == 403


def test_manager_dashboard_is_open_to_managers_and_admins(client_for, data, admin_user):
    assert client_for(data.M).get(reverse("dashboards:manager")).status_code == 200
    assert client_for(admin_user).get(reverse("dashboards:manager")).status_code == 200


def test_counsellor_home_shows_only_my_leads(client_for, data):
    html = client_for(data.A).get(reverse("dashboards:counsellor")).text
    for name in OTHERS:
        assert f">{name}<" not in html
    html = client_for(data.B).get(reverse("dashboards:counsellor"), headers={**HTMX, "HX-Target": "work-list"}).text
    assert ">L6<" in html and ">L2<" not in html


def test_a_manager_opening_my_day_sees_the_leads_assigned_to_them(client_for, data):
    response = client_for(data.M).get(reverse("dashboards:counsellor"))
    assert response.context["data"]["outcomes"]["total"] == 0


@pytest.mark.parametrize("view", ["list", "chart"])
def test_funnel_report_counts_only_a_counsellors_own_leads(client_for, data, view):
    response = client_for(data.A).get(reverse("dashboards:funnel"), {"view": view},
                                      headers={**HTMX, "HX-Target": "report-body"})
    assert response.status_code == 200
    report = response.context["data"]
    assert report["outcomes"]["total"] == 4
    assert [r["name"] for r in report["by_counsellor"]] == ["Sunil Sales"]
    assert "Salma Sales" not in response.text and "Unassigned" not in response.text
    assert sum(response.context["stage_chart"]["datasets"][0]["data"]) == 4
    assert response.context["funnel_chart"]["datasets"][0]["data"][0] == 4


def test_a_counsellors_cached_numbers_are_never_served_to_another(client_for, data):
    assert client_for(data.A).get(reverse("dashboards:funnel")).context["data"]["outcomes"]["total"] == 4
    assert client_for(data.B).get(reverse("dashboards:funnel")).context["data"]["outcomes"]["total"] == 3
    assert client_for(data.M).get(reverse("dashboards:funnel")).context["data"]["outcomes"]["total"] == 9
    assert client_for(data.A).get(reverse("dashboards:counsellor")).context["data"]["outcomes"]["total"] == 4
    assert client_for(data.B).get(reverse("dashboards:counsellor")).context["data"]["outcomes"]["total"] == 3


def test_companies_report_counts_only_the_companies_of_a_counsellors_leads(client_for, data):
    response = client_for(data.A).get(reverse("dashboards:companies"))
    assert response.context["data"]["total"] == 2
    assert "Singapore" not in response.text  # Gamma belongs to Salma's lead only


def test_counsellor_links_never_name_another_counsellor(client_for, data):
    html = client_for(data.A).get(reverse("dashboards:funnel")).text
    assert "counsellor=" not in html
