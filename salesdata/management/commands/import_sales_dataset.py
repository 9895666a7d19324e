"""Load the public "CRM Sales Opportunities" data set: see ``salesdata/services.py``."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.exceptions import ValidationError
from imports.management.acting_user import acting_user
from salesdata.services import sales_dataset_import


class Command(BaseCommand):
    help = (
        "Import the CRM Sales Opportunities data set (accounts, products, sales teams, pipeline) from a folder."
        " Safe to run again: it updates instead of duplicating."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="folder holding accounts.csv, products.csv, sales_teams.csv, sales_pipeline.csv"
        )
        parser.add_argument("--user", help="username recorded as creator (default: the first administrator)")
        parser.add_argument(
            "--usd-rate",
            help="value of 1 USD in the base currency, stored as the USD exchange rate so totals convert",
        )
        parser.add_argument(
            "--usd-rate-from", help="first day of that rate, YYYY-MM-DD (default: the data's first date)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, path, user=None, usd_rate=None, usd_rate_from=None, no_progress=False, **options):
        importer = acting_user(user)
        try:
            rate = Decimal(usd_rate) if usd_rate else None
            rate_from = datetime.date.fromisoformat(usd_rate_from) if usd_rate_from else None
        except (InvalidOperation, ValueError) as exc:
            raise CommandError(f"--usd-rate / --usd-rate-from: {exc}") from None
        bar = tqdm(desc="deals", unit=" rows", disable=no_progress, file=self.stderr._out)

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = sales_dataset_import(
                path=path, user=importer, usd_rate=rate, usd_rate_from=rate_from, progress=progress
            )
        except ValidationError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        for line in summary.lines():
            self.stdout.write(line)
