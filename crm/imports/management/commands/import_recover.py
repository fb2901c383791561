"""python manage.py import_recover [--loop SECONDS]

One recovery sweep of the imports (stalled runs -> interrupted; interrupted ones resumed while a worker is
alive; queued ones whose queue entry was lost enqueued again), or one every SECONDS until stopped.
Workers started with --with-scheduler also run this sweep every minute by themselves.
"""

import json
import time

from django.core.management.base import BaseCommand

from crm.imports.recovery import ensure_sweeper, imports_recover


class Command(BaseCommand):
    help = "Recover stalled or stranded imports (once, or every --loop seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="repeat every this many seconds")

    def handle(self, *args, **options):
        while True:
            result = imports_recover()
            result["sweeper_scheduled"] = ensure_sweeper()
            self.stdout.write(json.dumps(result))
            if not options["loop"]:
                return
            time.sleep(options["loop"])
