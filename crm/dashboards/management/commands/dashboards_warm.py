"""python manage.py dashboards_warm

Computes the managers' default dashboard numbers (manager home, funnel and companies reports, in every time
zone a manager uses) and caches them for at most a minute, once: for cron, or to see how long it takes.
Workers started with --with-scheduler do this every 45 seconds by themselves once a manager opens a dashboard.
Prints {"zones", "keys" (computed), "stored" (readable in the cache now: 0 when Redis cannot be reached), "seconds"}.
"""

import json

from django.core.management.base import BaseCommand

from crm.dashboards.warming import dashboards_warm


class Command(BaseCommand):
    help = "Compute and cache the managers' default dashboard numbers once."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(dashboards_warm()))
