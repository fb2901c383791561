"""Login throttling with django-axes: 5 failures for one e-mail from one address lock that pair for an hour."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "kiran@example.com"


@pytest.fixture
def kiran(db):
    return UserFactory(email=EMAIL, full_name="Kiran K")


def fail(sign_in, times, email=EMAIL, ip="203.0.113.7"):
    return [sign_in(email, "wrong password", ip=ip) for _ in range(times)]


def signed_in(response):
    return response.status_code == 302 and response["Location"] == reverse("home")


def test_four_failures_do_not_lock(sign_in, kiran):
    responses = fail(sign_in, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert signed_in(sign_in(EMAIL, PASSWORD))


def test_fifth_failure_locks_with_a_clear_message(sign_in, kiran):
    *first, fifth = fail(sign_in, 5)
    assert [r.status_code for r in first] == [200] * 4
    assert fifth.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in fifth.templates]
    text = fifth.text
    assert "Too many failed sign-ins" in text
    assert "After 5 failed attempts" in text
    assert "locked for 1 hour" in text
    assert EMAIL in text


def test_the_right_password_is_refused_while_locked(sign_in, client, kiran):
    fail(sign_in, 5)
    response = sign_in(EMAIL, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in response.text


def test_attempts_during_the_lock_do_not_extend_it(sign_in, kiran):
    fail(sign_in, 5)
    before = AccessAttempt.objects.get(username=EMAIL)
    fail(sign_in, 3)
    after = AccessAttempt.objects.get(username=EMAIL)
    assert after.attempt_time == before.attempt_time
    assert after.failures_since_start == 5


def test_lock_is_for_that_email_and_that_address_only(sign_in, kiran):
    UserFactory(email="meera@example.com")
    fail(sign_in, 5)
    assert signed_in(sign_in(EMAIL, PASSWORD, ip="198.51.100.20"))  # another address
    assert signed_in(sign_in("meera@example.com", PASSWORD))  # another e-mail, same address


def test_email_case_does_not_dodge_the_lock(sign_in, kiran):
    for email in ["kiran@example.com", "KIRAN@example.com", "Kiran@Example.com", "kiran@EXAMPLE.COM", "KIRAN@EXAMPLE.COM"]:
        sign_in(email, "wrong password")
    assert sign_in(EMAIL, PASSWORD).status_code == 429


def test_lock_ends_after_an_hour(sign_in, kiran):
    fail(sign_in, 5)
    assert sign_in(EMAIL, PASSWORD).status_code == 429
    AccessAttempt.objects.filter(username=EMAIL).update(attempt_time=timezone.now() - timedelta(minutes=61))
    assert signed_in(sign_in(EMAIL, PASSWORD))


def test_failures_more_than_an_hour_old_do_not_count(sign_in, kiran):
    fail(sign_in, 4)
    AccessAttempt.objects.filter(username=EMAIL).update(attempt_time=timezone.now() - timedelta(minutes=61))
    responses = fail(sign_in, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert signed_in(sign_in(EMAIL, PASSWORD))


def test_success_resets_the_count(sign_in, client, kiran):
    fail(sign_in, 4)
    assert signed_in(sign_in(EMAIL, PASSWORD))
    client.post(reverse("accounts:logout"))
    assert not AccessAttempt.objects.filter(username=EMAIL).exists()
    responses = fail(sign_in, 4)
    assert [r.status_code for r in responses] == [200] * 4  # counting starts again from zero
    assert signed_in(sign_in(EMAIL, PASSWORD))


def test_admin_sees_the_lock_and_unlocks(sign_in, client, kiran, admin_user):
    fail(sign_in, 5)
    client.force_login(admin_user)
    page = client.get(reverse("accounts:user_list"))
    row = page.text.split(f'id="user-{kiran.pk}"')[1].split("</tr>")[0]
    assert "Locked" in row
    assert reverse("accounts:user_unlock", args=[kiran.pk]) in row

    response = client.post(reverse("accounts:user_unlock", args=[kiran.pk]), follow=True)
    assert f"Sign-in is unlocked for {kiran}." in response.text
    row = response.text.split(f'id="user-{kiran.pk}"')[1].split("</tr>")[0]
    assert "Locked" not in row
    client.post(reverse("accounts:logout"))
    assert signed_in(sign_in(EMAIL, PASSWORD))


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_only_admins_unlock(sign_in, client, kiran, role):
    fail(sign_in, 5)
    client.force_login(UserFactory(role=role))
    assert client.post(reverse("accounts:user_unlock", args=[kiran.pk])).status_code == 403
    client.post(reverse("accounts:logout"))
    assert sign_in(EMAIL, PASSWORD).status_code == 429


def test_setting_a_new_password_by_the_emailed_link_lifts_the_lock(sign_in, client, kiran, mailoutbox):
    fail(sign_in, 5)
    client.post(reverse("accounts:password_reset"), {"email": EMAIL})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "fresh start 2026!", "new_password2": "fresh start 2026!"})
    assert signed_in(sign_in(EMAIL, "fresh start 2026!"))


class TestBehindAProxy:
    """With PROXY_COUNT=1 the address is the X-Forwarded-For entry the proxy added, not the proxy's own."""

    @pytest.fixture(autouse=True)
    def one_proxy(self, settings):
        settings.PROXY_COUNT = 1

    def test_clients_behind_the_proxy_are_told_apart(self, sign_in, kiran):
        for _ in range(5):
            sign_in(EMAIL, "wrong password", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert sign_in(EMAIL, PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
        other = sign_in(EMAIL, PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
        assert signed_in(other)

    def test_a_forged_forwarded_for_does_not_dodge_the_lock(self, sign_in, kiran):
        # The client sends its own X-Forwarded-For; the proxy appends the real address after it.
        for n in range(5):
            sign_in(EMAIL, "wrong password", ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
        response = sign_in(EMAIL, PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
        assert response.status_code == 429
