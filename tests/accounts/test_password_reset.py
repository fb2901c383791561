"""Password reset by e-mail with Django's one-time token links."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW = "a long new password 77"
LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def kiran(db):
    return UserFactory(email="kiran@example.com", full_name="Kiran K")


def reset_link(message) -> str:
    return LINK.search(message.body).group(1)


def without_csrf(html: str) -> str:
    """The page without its per-response secrets (CSRF token, CSP nonce)."""
    return re.sub(r'("x-csrftoken": "|nonce=")[^"]+"', r"\1", html)


def open_link(client, path):
    """The link redirects to a URL without the token (kept in the session); returns that page."""
    response = client.get(path, follow=True)
    assert response.status_code == 200
    return response


def test_reset_flow_end_to_end(client, kiran, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "Kiran@Example.com"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert "Check your e-mail" in response.text

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["kiran@example.com"]
    assert message.subject == "Reset your CRM password"
    assert "Hello Kiran K" in message.body

    page = open_link(client, reset_link(message))
    assert page.context["validlink"] is True
    assert "Set a new password" in page.text
    response = client.post(page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_complete")
    assert "Your password is saved" in response.text

    kiran.refresh_from_db()
    assert kiran.check_password(NEW)
    response = client.post(reverse("accounts:login"), {"username": "kiran@example.com", "password": NEW})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_unknown_email_gets_the_same_answer_and_no_mail(client, kiran, mailoutbox):
    known = client.post(reverse("accounts:password_reset"), {"email": "kiran@example.com"}, follow=True)
    mailoutbox.clear()
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain
    assert without_csrf(unknown.text) == without_csrf(known.text)
    assert mailoutbox == []


def test_inactive_user_gets_no_mail(client, mailoutbox):
    UserFactory(email="gone@example.com", is_active=False)
    response = client.post(reverse("accounts:password_reset"), {"email": "gone@example.com"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_used_link_is_refused(client, kiran, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": "kiran@example.com"})
    link = reset_link(mailoutbox[0])
    page = open_link(client, link)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})

    again = open_link(client, link)
    assert again.context["validlink"] is False
    assert "This link does not work" in again.text
    response = client.post(link, {"new_password1": "another one 99", "new_password2": "another one 99"})
    kiran.refresh_from_db()
    assert kiran.check_password(NEW)
    assert not kiran.check_password("another one 99")
    assert response.status_code == 200


@pytest.mark.parametrize("tamper", ["token", "uid"])
def test_tampered_link_is_refused_and_the_password_is_unchanged(client, kiran, mailoutbox, tamper):
    other = UserFactory(email="other@example.com")
    client.post(reverse("accounts:password_reset"), {"email": "kiran@example.com"})
    link = reset_link(mailoutbox[0])
    _, _, _, _, uid, token, _ = link.split("/")
    if tamper == "token":
        token = token[:-1] + ("a" if token[-1] != "a" else "b")
    else:  # Kiran's token on someone else's account
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        uid = urlsafe_base64_encode(force_bytes(other.pk))
    forged = reverse("accounts:password_reset_confirm", args=[uid, token])

    page = client.get(forged)
    assert page.status_code == 200
    assert page.context["validlink"] is False
    assert "This link does not work" in page.text
    client.post(forged, {"new_password1": NEW, "new_password2": NEW})
    kiran.refresh_from_db()
    other.refresh_from_db()
    assert kiran.check_password(PASSWORD)
    assert other.check_password(PASSWORD)


def test_link_stops_working_once_the_password_changes_another_way(client, kiran, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": "kiran@example.com"})
    link = reset_link(mailoutbox[0])
    kiran.set_password("changed meanwhile 11")
    kiran.save()
    assert open_link(client, link).context["validlink"] is False


def test_mismatched_new_passwords_are_explained(client, kiran, mailoutbox):
    client.post(reverse("accounts:password_reset"), {"email": "kiran@example.com"})
    page = open_link(client, reset_link(mailoutbox[0]))
    response = client.post(page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW + "x"})
    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.text
    kiran.refresh_from_db()
    assert kiran.check_password(PASSWORD)
