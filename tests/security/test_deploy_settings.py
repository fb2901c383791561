"""Production settings (DEBUG=0 and real values): Django's deployment checklist passes, and the pages carry
the security headers. Run in a child process because settings are read from the environment at start-up."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "crm.example.com"}

# Asks a few pages through Django's test client and prints what a browser would get.
PROBE = """
import json
from django.test import Client
c = Client(HTTP_HOST="crm.example.com")
plain = c.get("/accounts/login/")
secure = c.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
health = c.get("/healthz")
cookie = secure.cookies.get("csrftoken")
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": secure.status_code,
    "headers": {k: secure.get(k) for k in ["Strict-Transport-Security", "Content-Security-Policy", "Referrer-Policy",
                                            "X-Content-Type-Options", "X-Frame-Options", "Cross-Origin-Opener-Policy"]},
    "nonce_in_page": secure.content.decode().count('nonce="'),
    "csrf_cookie": {"secure": bool(cookie and cookie["secure"]), "samesite": cookie and cookie["samesite"]},
    "health": health.status_code,
}))
"""


def run(args, env_extra, tmp_path):
    env = {**os.environ, **PRODUCTION, "VAR_DIR": str(tmp_path), **env_extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/conftest.py for Playwright; never in production
    env.pop("EMAIL_BACKEND", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def random_key() -> str:
    return secrets.token_urlsafe(64)[:60]


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = run(["check", "--deploy", "--fail-level", "WARNING"], {"SECRET_KEY": random_key()}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run(["check"], {"SECRET_KEY": ""}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_pages_carry_the_security_headers_in_production(tmp_path):
    env = {"SECRET_KEY": random_key()}
    collected = run(["collectstatic", "--noinput"], env, tmp_path)
    assert collected.returncode == 0, collected.stderr
    assert Path(tmp_path, "staticfiles", "staticfiles.json").exists()

    result = run(["shell", "-c", PROBE], env, tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["plain"] == [301, "https://crm.example.com/accounts/login/"]  # plain HTTP goes to HTTPS
    assert seen["secure"] == 200  # behind the TLS proxy (X-Forwarded-Proto: https) the page is served
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert seen["nonce_in_page"] >= 1  # the htmx script carries the nonce
    assert seen["csrf_cookie"]["secure"] is True
    assert seen["health"] != 301  # the load balancer's health check is not redirected to HTTPS
