"""Admins manage users (Users page and the Django admin); everyone manages their own profile."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from crm.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")

NEW_USER = {
    "email": "Priya@Example.com",
    "full_name": "Priya P",
    "role": "sales",
    "phone": "",
    "time_zone": "Asia/Kolkata",
    "is_active": "on",
    "is_available": "on",
    "capacity": "",
    "exports_per_month": "100",
    "export_rows_per_month": "",
}


def test_admin_adds_a_user_who_sets_a_password_by_the_emailed_link(client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:user_create"), NEW_USER, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:user_list")
    assert "Priya P is added and has been sent a link to set a password." in response.text
    priya = User.objects.get(email="priya@example.com")
    assert priya.role == "sales" and priya.is_active and not priya.is_superuser
    assert "priya@example.com" in response.text

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["priya@example.com"]
    assert message.subject == "Your CRM account is ready: set your password"
    link = LINK.search(message.body).group(1)

    client.post(reverse("accounts:logout"))
    page = client.get(link, follow=True)
    assert page.context["validlink"] is True
    client.post(page.redirect_chain[-1][0], {"new_password1": "priya's own secret 5", "new_password2": "priya's own secret 5"})
    response = client.post(reverse("accounts:login"), {"username": "priya@example.com", "password": "priya's own secret 5"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(link, follow=True).context["validlink"] is False  # the link worked once


def test_new_admin_gets_admin_powers(client_for, admin_user, django_capture_on_commit_callbacks):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:user_create"), {**NEW_USER, "role": "admin"})
    priya = User.objects.get(email="priya@example.com")
    assert priya.is_superuser and priya.is_staff


def test_adding_an_inactive_user_sends_nothing(client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(admin_user)
    data = {key: value for key, value in NEW_USER.items() if key != "is_active"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:user_create"), data, follow=True)
    assert "added as inactive: no e-mail was sent" in response.text
    assert mailoutbox == []


def test_duplicate_email_is_refused_whatever_the_case(client_for, admin_user):
    UserFactory(email="priya@example.com")
    response = client_for(admin_user).post(reverse("accounts:user_create"), {**NEW_USER, "email": "PRIYA@example.com"})
    assert response.status_code == 200
    assert "A user with this e-mail already exists." in response.text
    assert User.objects.filter(email__iexact="priya@example.com").count() == 1


def test_bad_time_zone_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(reverse("accounts:user_create"), {**NEW_USER, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "is not a time zone name such as Asia/Kolkata" in response.text
    assert not User.objects.filter(email="priya@example.com").exists()


def test_admin_edits_a_user(client_for, admin_user, sales):
    client = client_for(admin_user)
    data = {**NEW_USER, "email": sales.email, "full_name": "Sunil Renamed", "role": "manager", "capacity": "40"}
    response = client.post(reverse("accounts:user_edit", args=[sales.pk]), data, follow=True)
    assert "Sunil Renamed is saved." in response.text
    sales.refresh_from_db()
    assert (sales.full_name, sales.role, sales.capacity) == ("Sunil Renamed", "manager", 40)


def test_admin_resends_a_set_password_link(client_for, admin_user, sales, mailoutbox, django_capture_on_commit_callbacks):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:user_send_link", args=[sales.pk]), follow=True)
    assert f"A link to set a password has been sent to {sales.email}." in response.text
    assert [m.to for m in mailoutbox] == [[sales.email]]


def test_admin_cannot_demote_or_deactivate_themselves(client_for, admin_user):
    client = client_for(admin_user)
    data = {**NEW_USER, "email": admin_user.email, "full_name": admin_user.full_name, "role": "sales"}
    data.pop("is_active")
    response = client.post(reverse("accounts:user_edit", args=[admin_user.pk]), data)
    assert response.status_code == 200
    assert "You cannot take away your own admin role" in response.text
    assert "You cannot deactivate your own account" in response.text
    admin_user.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.is_active


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_users_pages_are_for_admins_only(client_for, role, sales, mailoutbox):
    client = client_for(UserFactory(role=role, email=f"{role}-x@example.com"))
    assert client.get(reverse("accounts:user_list")).status_code == 403
    assert client.get(reverse("accounts:user_create")).status_code == 403
    assert client.post(reverse("accounts:user_create"), {**NEW_USER, "role": "admin"}).status_code == 403
    assert client.get(reverse("accounts:user_edit", args=[sales.pk])).status_code == 403
    assert client.post(reverse("accounts:user_send_link", args=[sales.pk])).status_code == 403
    assert not User.objects.filter(email="priya@example.com").exists()
    assert mailoutbox == []


def test_deactivated_user_loses_access_on_the_next_request(client, admin_user, sales):
    client.force_login(sales)
    assert client.get(reverse("accounts:profile")).status_code == 200
    User.objects.filter(pk=sales.pk).update(is_active=False)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    response = client.get(reverse("home"))
    assert response.status_code == 302


def test_deactivated_user_on_an_htmx_request_is_sent_to_the_login_page_whole(client, sales):
    client.force_login(sales)
    User.objects.filter(pk=sales.pk).update(is_active=False)
    response = client.get(
        reverse("accounts:profile"), headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/accounts/profile/"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("accounts:login") + "?next=/accounts/profile/"
    assert response.content == b""


def test_user_list_times_are_in_the_viewers_time_zone(client_for, admin_user, sales):
    User.objects.filter(pk=sales.pk).update(last_login=dt.datetime(2026, 1, 15, 4, 0, tzinfo=dt.UTC))
    client = client_for(admin_user)
    assert "15 Jan 2026, 09:30" in client.get(reverse("accounts:user_list")).text  # Asia/Kolkata (the default)
    User.objects.filter(pk=admin_user.pk).update(time_zone="America/New_York")
    page = client.get(reverse("accounts:user_list")).text
    assert "14 Jan 2026, 23:00" in page
    assert "Times are shown in America/New_York" in page


def test_profile_saves_name_phone_and_time_zone_and_times_follow(client_for, sales):
    client = client_for(sales)
    page = client.get(reverse("accounts:profile"))
    assert "Asia/Kolkata" in page.text and "UTC+0530" in page.text
    response = client.post(
        reverse("accounts:profile"), {"full_name": "Sunil S", "phone": "+91 98470 12345", "time_zone": "Asia/Tokyo"}, follow=True
    )
    assert "Your profile is saved." in response.text
    sales.refresh_from_db()
    assert (sales.full_name, sales.phone, sales.time_zone) == ("Sunil S", "+91 98470 12345", "Asia/Tokyo")
    assert "UTC+0900" in response.text
    User.objects.filter(pk=sales.pk).update(last_login=dt.datetime(2026, 1, 15, 4, 0, tzinfo=dt.UTC))
    assert "15 Jan 2026, 13:00" in client.get(reverse("accounts:profile")).text


def test_profile_refuses_a_bad_time_zone_and_cannot_change_role(client_for, sales):
    client = client_for(sales)
    response = client.post(
        reverse("accounts:profile"), {"full_name": "Sunil", "phone": "", "time_zone": "Nowhere/Land", "role": "admin"}
    )
    assert response.status_code == 200
    assert "is not a time zone name such as Asia/Kolkata" in response.text
    sales.refresh_from_db()
    assert sales.time_zone == "Asia/Kolkata" and sales.role == "sales"
    client.post(reverse("accounts:profile"), {"full_name": "Sunil", "phone": "", "time_zone": "UTC", "role": "admin"})
    sales.refresh_from_db()
    assert sales.time_zone == "UTC" and sales.role == "sales"


class TestDjangoAdmin:
    def test_admin_lists_and_opens_users(self, client_for, admin_user, sales):
        client = client_for(admin_user)
        listing = client.get(reverse("admin:accounts_user_changelist"))
        assert listing.status_code == 200 and sales.email in listing.text
        change = client.get(reverse("admin:accounts_user_change", args=[sales.pk]))
        assert change.status_code == 200 and "Exports" in change.text

    def test_admin_adds_a_user_who_gets_the_link(self, client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks):
        client = client_for(admin_user)
        assert client.get(reverse("admin:accounts_user_add")).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:accounts_user_add"), {"email": "Ravi@Example.com", "full_name": "Ravi R", "role": "manager"}
            )
        assert response.status_code == 302
        ravi = User.objects.get(email="ravi@example.com")
        assert ravi.role == "manager" and ravi.has_usable_password()
        assert [m.to for m in mailoutbox] == [["ravi@example.com"]]
        assert LINK.search(mailoutbox[0].body)

    def test_admin_changes_a_role_and_superuser_follows(self, client_for, admin_user, sales):
        client = client_for(admin_user)
        page = client.get(reverse("admin:accounts_user_change", args=[sales.pk]))
        form = page.context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
        data.update(role="admin", is_active="on", is_available="on", date_joined_0="2026-01-01", date_joined_1="10:00:00")
        data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
        data = {k: ("on" if v is True else v) for k, v in data.items()}
        response = client.post(reverse("admin:accounts_user_change", args=[sales.pk]), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        sales.refresh_from_db()
        assert sales.role == "admin" and sales.is_superuser

    @pytest.mark.parametrize("role", ["manager", "sales"])
    def test_others_are_refused(self, client_for, role):
        client = client_for(UserFactory(role=role))
        response = client.get(reverse("admin:accounts_user_changelist"))
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 403
