"""``manage.py rebuild_deal_totals``: reinstall the triggers that keep the deal totals, for the
current ``TIME_ZONE``, and compute the totals again from the deals (after loading deals with the
triggers switched off, or a change of time zone). ``migrate`` does the same once, by
``opportunities.rollups.InstallDealTotals``."""

from django.core.management.base import BaseCommand
from django.db import connections, transaction

from opportunities.rollups import rollups_install


class Command(BaseCommand):
    help = "Reinstall the triggers that keep the deal totals and recompute the totals from the deals."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database="default", **options):
        connection = connections[database]
        with transaction.atomic(using=database), connection.cursor() as cursor:
            rebuilt = rollups_install(connection, cursor.execute)
        self.stdout.write(f"Recomputed: {', '.join(rebuilt) or 'nothing (this database has no deal totals)'}")
