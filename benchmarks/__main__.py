"""Run a benchmark: `python -m benchmarks <name> [options]` (JSON lines on stdout).

Names: lists, assign, board, import, dashboards, export. They measure the database in DATABASE_URL
(PostgreSQL with 1,000,000 leads for the published numbers; `python -m benchmarks setup --leads N` fills it).
"""

import importlib
import os
import sys

MODULES = {"import": "import_leads"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    name = argv[0]
    module = importlib.import_module(f"benchmarks.{MODULES.get(name, name)}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
