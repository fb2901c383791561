"""Delete the files of expired exports (and mark them expired); fail exports a dead worker left behind.

The worker schedules this sweep for each export's expiry time (rqworker --with-scheduler); run the
command from cron as well (e.g. hourly) so that nothing outlives its link if Redis lost the schedule.
"""

from django.core.management.base import BaseCommand

from crm.exports.services import exports_cleanup


class Command(BaseCommand):
    help = "Delete expired export files and mark those exports expired."

    def handle(self, *args, **options):
        result = exports_cleanup()
        self.stdout.write(f"Expired {result['expired']} export(s); marked {result['failed']} stuck export(s) failed.")
