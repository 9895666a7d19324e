"""``manage.py rebuild_deal_totals``: reinstall the triggers that keep the deal totals and compute
the totals again from the deals (after loading deals with the triggers switched off, say)."""

from django.core.management.base import BaseCommand

from opportunities.rollups import rollups_install


class Command(BaseCommand):
    help = "Reinstall the triggers that keep the deal totals and recompute the totals from the deals."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database="default", **options):
        rebuilt = rollups_install(using=database, force=True)
        self.stdout.write(f"Recomputed: {', '.join(rebuilt) or 'nothing (this database has no deal totals)'}")
