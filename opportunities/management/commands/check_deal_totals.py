"""``manage.py check_deal_totals``: compare the totals the database keeps (per stage, closed per
month, the funnel's cohorts and stays) with the same sums computed from the deals, and each deal's
funnel columns with its stage history, and say whether their triggers are in place.
Prints every difference and exits with status 1 when there is any
(``manage.py rebuild_deal_totals`` recomputes them)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from opportunities.rollups import ROLLUPS, funnel_column_differences, missing_triggers, rollup_differences


class Command(BaseCommand):
    help = "Compare the kept deal totals with the deals; exit with status 1 on any difference."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database="default", **options):
        if connections[database].vendor not in ("postgresql", "sqlite"):
            self.stdout.write("This database keeps no deal totals.")
            return
        problems = 0
        for name in missing_triggers(using=database):
            problems += 1
            self.stdout.write(f"missing trigger {name}")
        for deal, expected, kept in funnel_column_differences(using=database):
            problems += 1
            self.stdout.write(f"deal {deal} stages_entered, stage_days: history {expected} kept {kept}")
        for rollup in ROLLUPS:
            for key, expected, kept in rollup_differences(rollup, using=database):
                problems += 1
                keys = ", ".join(f"{n}={v}" for n, v in zip(rollup.key_names, key, strict=True))
                deals, totals = _measures(rollup, expected), _measures(rollup, kept)
                self.stdout.write(f"{rollup.table} [{keys}]: deals {deals} kept {totals}")
        if problems:
            raise CommandError(f"{problems} difference(s) between the kept deal totals and the deals.")
        self.stdout.write("The kept deal totals equal the deals.")


def _measures(rollup, values) -> str:
    if not values:
        return "(none)"
    return " ".join(f"{n}={v}" for n, v in zip(rollup.measure_names, values, strict=True))
