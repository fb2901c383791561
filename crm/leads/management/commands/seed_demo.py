"""Demo data for `make run`: the demo users (idempotent). The leads workspace adds leads (--leads N)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.accounts.models import User

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - printed by make run; demo data only
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("manager@example.com", "Meera Manager", "manager"),
    ("counsellor@example.com", "Kiran Counsellor", "sales"),
    ("anita@example.com", "Anita Nair", "sales"),
    ("rahul@example.com", "Rahul Menon", "sales"),
    ("fathima@example.com", "Fathima Rasheed", "sales"),
]


class Command(BaseCommand):
    help = "Create the demo users (and, with --leads N, N demo leads). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=0, help="how many demo leads to make")

    @transaction.atomic
    def handle(self, *args, **options):
        for email, name, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                email=email, defaults={"full_name": name, "role": role, "is_superuser": role == "admin"}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS(f"Demo users ready (password: {DEMO_PASSWORD})."))
