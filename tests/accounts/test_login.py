import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_with_email_lands_on_home(client):
    user = UserFactory(email="kiran@example.com", full_name="Kiran K")
    response = client.post(reverse("accounts:login"), {"username": "Kiran@Example.com", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.context["user"] == user
    assert "Kiran K" in response.text
