"""Demo data: the demo users and, with --leads N, N realistic leads (idempotent: tops up to N)."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.accounts.models import User
from crm.leads import demo

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - printed by make run; demo data only
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("manager@example.com", "Meera Manager", "manager"),
]


class Command(BaseCommand):
    help = "Create the demo users and top the database up to N demo leads (--leads N). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=0, help="how many demo leads the database should hold")
        parser.add_argument("--counsellors", type=int, default=None, help="how many counsellors (default 4, or 20 from 100,000 leads)")

    def handle(self, *args, leads, counsellors, **options):
        with transaction.atomic():
            for email, name, role in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"full_name": name, "role": role, "is_superuser": role == "admin"}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
            demo.ensure_counsellors(counsellors or (20 if leads >= 100_000 else 4))
        started = time.monotonic()
        added = demo.fill(leads=leads, counsellors=counsellors, log=self.stdout.write) if leads else 0
        if added:
            self.stdout.write(f"Added {added:,} demo leads in {time.monotonic() - started:.1f} s.")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready (password for every demo user: {DEMO_PASSWORD})."))
