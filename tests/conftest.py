"""Shared fixtures. Tests use a real database and a real Redis: the embedded ones by default, or the
servers named by DATABASE_URL / REDIS_URL."""

import os
import shutil
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from rq import SimpleWorker

from crm.core import embedded_redis

from .factories import UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright's sync API


@pytest.fixture(scope="session", autouse=True)
def real_redis():
    """Start the embedded Redis for the session (unless REDIS_URL names a server) and stop it at the end."""
    process = None
    if settings.EMBEDDED_REDIS:
        process = embedded_redis.start(Path(settings.EMBEDDED_REDIS_SOCKET))
    connection = django_rq.get_connection("default")
    connection.ping()
    yield connection
    embedded_redis.stop(process, Path(settings.EMBEDDED_REDIS_SOCKET))


@pytest.fixture(autouse=True)
def empty_cache(real_redis):
    """Nothing cached by an earlier test (ids are reused after a rollback: a user's kept badges would leak)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Every test user would otherwise cost a PBKDF2 hash (about 0.3 s on this machine)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_pipeline(request):
    """The admissions pipeline, as a fresh install has it (its data migration), and an empty stage tally. A
    transactional test flushes every table when it ends, so later tests would otherwise find no stages."""
    database = next((name for name in ("transactional_db", "db") if name in request.fixturenames), None)
    if database is not None:
        request.getfixturevalue(database)
    elif request.node.get_closest_marker("django_db") is None:
        return
    from crm.leads.models import Lead, Stage, StageTally
    from crm.leads.pipelines import DEFAULT_PRESET, load_pipeline

    if not Stage.objects.exists():
        load_pipeline(DEFAULT_PRESET)
    # SQLite's flush deletes table by table: were the stage tally emptied before the leads, the lead table's
    # delete triggers would leave delta rows for leads that no longer exist (PostgreSQL truncates all at once).
    if not Lead.objects.exists():
        StageTally.objects.all().delete()


@pytest.fixture
def rq_queues(real_redis):
    """Empty queues before and after a test that enqueues jobs."""
    queues = [django_rq.get_queue(name) for name in settings.RQ_QUEUES]
    for queue in queues:
        queue.empty()
    yield queues
    for queue in queues:
        queue.empty()


@pytest.fixture
def run_jobs(rq_queues):
    """Run every queued job now, in this process, with a real RQ worker (burst mode)."""

    def run():
        worker = SimpleWorker(rq_queues, connection=rq_queues[0].connection)
        worker.work(burst=True)

    return run


@pytest.fixture
def admin_user(db):
    return UserFactory(role="admin", email="admin@example.com", full_name="Ada Admin")


@pytest.fixture
def manager(db):
    return UserFactory(role="manager", email="manager@example.com", full_name="Meera Manager")


@pytest.fixture
def sales(db):
    return UserFactory(role="sales", email="sales@example.com", full_name="Sunil Sales")


@pytest.fixture
def other_sales(db):
    return UserFactory(role="sales", email="sales2@example.com", full_name="Salma Sales")


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- Browser tests (Chromium through Playwright) ---------------------------------------------------


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_has_own_browser() -> bool:
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    return any(cache.glob("chromium-*")) if cache.exists() else False


def pytest_collection_modifyitems(config, items):
    if chromium_path() or playwright_has_own_browser():
        return
    reason = "no Chromium found (set CHROMIUM_PATH, install /usr/bin/chromium, or run `playwright install chromium`)"
    if os.environ.get("BROWSER_TESTS") == "required":
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.xfail(reason=reason, run=False, strict=True))
        raise pytest.UsageError(f"BROWSER_TESTS=required but {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = chromium_path()
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    launch = {**browser_type_launch_args, "args": args}
    if path:
        launch["executable_path"] = path
    return launch


@pytest.fixture
def browser_login(page, live_server):
    """browser_login(user, password) signs the browser in through the real login page."""

    def sign_in(user, password="correct horse battery"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        return page

    return sign_in
