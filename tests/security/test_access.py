"""Walk every URL pattern in the resolver (every app's, as they land) and check who may reach it.

- Anonymous GET and POST: every non-public URL answers with a redirect that ends on the login page
  (405 is accepted too: the method check runs before the view, and reveals nothing).
- Signed in as an admin, a POST without a CSRF token is refused with 403 by every URL (405 is fine).
"""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from .urlwalk import all_routes

pytestmark = pytest.mark.django_db

# Pages anyone may open: signing in and getting back in, and the health check for load balancers.
PUBLIC = {
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "healthz",
}
# django-rq's statistics JSON authenticates itself: staff session or RQ_API_TOKEN (none set: refused, 401).
TOKEN_PROTECTED = {"django_rq:home_json", "admin:django_rq_home_json"}

ROUTES = all_routes()


def login_path() -> str:
    return urlsplit(resolve_url(settings.LOGIN_URL)).path


def ends_on_login(client, response, hops=4) -> bool:
    """Follow redirects inside the site (GET, as a browser would) until one points at the login page."""
    for _ in range(hops):
        if response.status_code not in (301, 302, 303, 307, 308):
            return False
        location = urlsplit(response["Location"])
        if location.netloc and location.netloc != "testserver":
            return False
        if location.path == login_path():
            return True
        response = client.get(response["Location"])
    return False


def test_the_walk_finds_every_app():
    names = {route.name.split(":")[0] for route in ROUTES}
    assert {"accounts", "admin", "django_rq", "healthz", "home"} <= names
    assert len(ROUTES) > 50


def test_allow_lists_name_real_routes():
    names = {route.name for route in ROUTES}
    assert PUBLIC <= names
    assert TOKEN_PROTECTED <= names


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC | TOKEN_PROTECTED], ids=str)
def test_anonymous_visitors_are_sent_to_login(route):
    problems = []
    for method in ("get", "post"):
        client = Client()
        response = getattr(client, method)(route.url)
        if response.status_code == 405 and "Allow" in response:
            continue
        if not ends_on_login(client, response):
            problems.append(f"{method.upper()} answered {response.status_code} {response.get('Location', '')}")
    assert not problems, f"{route.url} ({route.name}) lets anonymous visitors in: {'; '.join(problems)}"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in PUBLIC], ids=str)
def test_public_pages_open_without_signing_in(route):
    response = Client().get(route.url, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in TOKEN_PROTECTED], ids=str)
def test_queue_statistics_need_a_token(route):
    for method in ("get", "post"):
        response = getattr(Client(), method)(route.url)
        assert response.status_code == 401
        assert response.json()["error"] is True
        assert "queues" not in response.json()


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_post_needs_a_csrf_token(route, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(route.url, {"anything": "1"})
    if response.status_code == 405:
        return
    assert response.status_code == 403, f"POST {route.url} ({route.name}) without a CSRF token answered {response.status_code}"
    assert "errors/403_csrf.html" in [t.name for t in response.templates], f"{route.name}: a 403, but not the CSRF check's"


def test_htmx_post_without_the_csrf_header_is_refused(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(resolve_url("accounts:profile"), {"full_name": "X"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["X-Error-Message"]  # the htmx error handler shows this text as a toast
