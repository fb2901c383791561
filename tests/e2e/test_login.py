"""Sign in through the real login page in Chromium and land on the home page."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_see_the_home_page(page, live_server):
    UserFactory(email="kiran@example.com", full_name="Kiran Kumar", role="sales")
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    page.on("response", lambda r: r.status >= 400 and console_errors.append(f"{r.status} {r.url}"))

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("E-mail").fill("Kiran@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_text("Kiran Kumar")).to_be_visible()
    assert page.title().endswith("· CRM")
    assert console_errors == []  # no CSP violations, no script errors


def test_wrong_password_stays_on_the_login_page_with_a_message(page, live_server):
    UserFactory(email="kiran@example.com")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("kiran@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("do not match an active account")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
