import pytest
from django.urls import reverse


@pytest.fixture
def sign_in(client):
    """sign_in(email, password, ip=...) posts the real login form from that address; returns the response."""

    def post(email, password, ip="203.0.113.7", client=client, **extra):
        return client.post(reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)

    return post
