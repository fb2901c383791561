from django.core.management.base import BaseCommand, CommandError

from crm.leads.pipelines import PRESETS, load_pipeline


class Command(BaseCommand):
    help = "Make a preset pipeline (admissions, sales, simple) the active one. Stages not in it are deactivated."

    def add_arguments(self, parser):
        parser.add_argument("preset", choices=sorted(PRESETS))

    def handle(self, *args, preset, **options):
        try:
            stages = load_pipeline(preset)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Pipeline “{preset}”: {', '.join(s.name for s in stages)}"))
