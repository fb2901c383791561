import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_404_is_styled(client_for, sales):
    response = client_for(sales).get("/no-such-page/")
    assert response.status_code == 404
    assert "errors/404.html" in [t.name for t in response.templates]
    assert "Not found" in response.text
    assert 'class="navbar' in response.text  # the site's layout, with its navigation


def test_403_is_styled(client_for, sales):
    response = client_for(sales).get(reverse("accounts:user_list"))
    assert response.status_code == 403
    assert "errors/403.html" in [t.name for t in response.templates]
    assert "You do not have permission to see this page." in response.text


def test_404_for_anonymous_visitors_is_styled_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.text


@pytest.mark.urls("tests.core.urls_boom")
def test_500_is_styled_and_standalone():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "/static/vendor/bootstrap/bootstrap.min.css" in response.text


def test_csrf_failure_page_says_what_to_do(client_for, sales):
    client = client_for(sales)
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("accounts:profile"), {"full_name": "X", "time_zone": "UTC"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert response["X-Error-Message"].startswith("The form had expired")
    sales.refresh_from_db()
    assert sales.full_name != "X"
