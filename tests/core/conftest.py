import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Django's documented test speed-up: every user fixture would otherwise cost a PBKDF2 hash (~0.3 s)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
