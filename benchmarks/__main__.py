"""Run a benchmark: `python -m benchmarks <name> [options]` (JSON lines on stdout).

Names: lists, assign, board, import, dashboards, export. They measure the database in DATABASE_URL
(PostgreSQL with 1,000,000 leads for the published numbers; `python -m benchmarks setup --leads N` fills it).
"""

import contextlib
import importlib
import os
import sys

MODULES = {"import": "import_leads"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    production_like_settings()
    import django

    django.setup()
    collect_static()
    name = argv[0]
    module = importlib.import_module(f"benchmarks.{MODULES.get(name, name)}")
    with embedded_redis():
        return module.main(argv[1:]) or 0


def production_like_settings() -> None:
    """Measure what production serves: DEBUG off (no SQL logging, no debug toolbar of any kind, compressed and
    manifest-named static files). BENCH_DEBUG=1 keeps the settings the environment gives."""
    if os.environ.get("BENCH_DEBUG") == "1":
        return
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,testserver")


@contextlib.contextmanager
def embedded_redis():
    """The embedded Redis (queues and the shared cache) for the run, unless REDIS_URL names a server."""
    from pathlib import Path

    from django.conf import settings

    from crm.core import embedded_redis as server

    process = server.start(Path(settings.EMBEDDED_REDIS_SOCKET)) if settings.EMBEDDED_REDIS else None
    try:
        yield
    finally:
        server.stop(process, Path(settings.EMBEDDED_REDIS_SOCKET))


def collect_static() -> None:
    """With DEBUG off the pages name static files through the manifest, which collectstatic writes."""
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG and not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
