"""The django-rq dashboard (/admin/rq/) and the Django admin are for admins only."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RQ = "/admin/rq/"


def test_admin_sees_the_job_queue(client_for, admin_user, real_redis):
    response = client_for(admin_user).get(RQ)
    assert response.status_code == 200
    assert "default" in response.text and "imports" in response.text


def test_admin_reaches_the_queue_from_the_menu(client_for, admin_user):
    page = client_for(admin_user).get(reverse("accounts:profile"))
    assert f'href="{RQ}"' in page.text
    assert f'href="{reverse("admin:index")}"' in page.text


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_others_are_refused_without_a_redirect_loop(client_for, role):
    client = client_for(UserFactory(role=role))
    response = client.get(RQ, follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 2
    assert "Not allowed" in response.text
    assert client.get(reverse("admin:index"), follow=True).status_code == 403


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_others_do_not_see_the_admin_menu(client_for, role):
    page = client_for(UserFactory(role=role)).get(reverse("accounts:profile"))
    assert RQ not in page.text
    assert reverse("accounts:user_list") not in page.text


def test_anonymous_goes_to_login_and_comes_back_to_the_queue(client, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    response = client.get(RQ, follow=True)
    login_url, _ = response.redirect_chain[-1]
    assert login_url.startswith(reverse("accounts:login"))
    assert response.context["next"] == RQ
    response = client.post(login_url, {"username": admin_user.email, "password": PASSWORD, "next": RQ}, follow=True)
    assert response.redirect_chain[-1][0] == RQ
    assert response.status_code == 200


def test_signed_in_admin_at_the_admin_login_goes_on(client_for, admin_user):
    response = client_for(admin_user).get(reverse("admin:login") + "?next=/admin/rq/")
    assert response.status_code == 302 and response["Location"] == RQ
    response = client_for(admin_user).get(reverse("admin:login") + "?next=https://evil.example.net/")
    assert response["Location"] == reverse("admin:index")
