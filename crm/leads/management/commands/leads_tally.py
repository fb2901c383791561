"""`python manage.py leads_tally [--rebuild] [--compact]`: check the stage tally against the leads.

Without options: count the leads per (owner, stage) and compare (a full scan; exits 1 on a difference).
--compact folds the tally's delta rows; --rebuild recounts it from the leads (the lead table is locked
against writers meanwhile on PostgreSQL: seconds at a million leads)."""

import sys

from django.core.management.base import BaseCommand

from crm.leads import tally


class Command(BaseCommand):
    help = "Check the stage tally (leads and deal value per owner and stage) against the leads; fold or rebuild it."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recount the tally from the leads")
        parser.add_argument("--compact", action="store_true", help="fold the delta rows together")

    def handle(self, *args, rebuild=False, compact=False, **options):
        if rebuild:
            self.stdout.write(f"Rebuilt the stage tally: {tally.tally_rebuild():,} rows.")
        if compact:
            self.stdout.write(f"Compacted the stage tally: {tally.tally_compact():,} rows.")
        differences = tally.tally_differences()
        if not differences:
            self.stdout.write("The stage tally matches the leads.")
            return
        for row in differences:
            self.stdout.write(f"owner {row['owner']}, stage {row['stage']}: tally {row['tally']}, leads {row['leads']}")
        self.stdout.write(f"The stage tally differs from the leads in {len(differences)} places: run --rebuild.")
        sys.exit(1)
