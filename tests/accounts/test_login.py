import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_with_email_lands_on_home(client):
    user = UserFactory(email="kiran@example.com", full_name="Kiran K")
    response = client.post(reverse("accounts:login"), {"username": "Kiran@Example.com", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0] == reverse("home")  # home may lead on to the role's own page
    assert not response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert response.context["user"] == user
    assert "Kiran K" in response.text


@pytest.mark.parametrize("role", ["admin", "manager", "sales"])
def test_every_role_lands_on_its_home_after_login(client, role):
    """Login sends everyone to `home`, which shows (or leads to) the role's own page, never back to login."""
    user = UserFactory(role=role)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code in (200, 302)
    if home.status_code == 302:
        assert not home["Location"].startswith(reverse("accounts:login"))


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="kiran@example.com")
    response = client.post(reverse("accounts:login"), {"username": "kiran@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "do not match an active account" in response.text
    assert not response.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    UserFactory(email="kiran@example.com")
    wrong_password = client.post(reverse("accounts:login"), {"username": "kiran@example.com", "password": "wrong"})
    unknown = client.post(reverse("accounts:login"), {"username": "nobody@example.com", "password": "wrong"})
    assert unknown.status_code == wrong_password.status_code == 200
    assert unknown.context["form"].errors == wrong_password.context["form"].errors


def test_deactivated_user_cannot_sign_in(client):
    UserFactory(email="gone@example.com", is_active=False)
    response = client.post(reverse("accounts:login"), {"username": "gone@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_follows_a_local_next_but_not_another_site(client):
    user = UserFactory()
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD, "next": reverse("accounts:profile")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD, "next": "https://evil.example.net/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_page_sends_a_signed_in_user_home(client_for, sales):
    response = client_for(sales).get(reverse("accounts:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_there_is_no_public_sign_up(client):
    response = client.get(reverse("accounts:login"))
    assert "sign up" not in response.text.lower() and "register" not in response.text.lower()
    for path in ("/accounts/signup/", "/accounts/register/", "/signup/"):
        assert client.get(path).status_code == 404


def test_logout_refuses_get(client_for, sales):
    client = client_for(sales)
    response = client.get(reverse("accounts:logout"))
    assert response.status_code == 405
    assert client.get(reverse("accounts:profile")).status_code == 200  # still signed in


def test_logout_by_post_signs_out_and_says_so(client_for, sales):
    client = client_for(sales)
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "You have signed out." in response.text
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_password_change(client_for, sales):
    client = client_for(sales)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert "Your password is changed." in response.text
    assert client.get(reverse("accounts:profile")).status_code == 200  # the session survives the change
    sales.refresh_from_db()
    assert sales.check_password("a brand new secret 42")


def test_password_change_needs_the_old_password(client_for, sales):
    client = client_for(sales)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "not it", "new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.text
    sales.refresh_from_db()
    assert sales.check_password(PASSWORD)
