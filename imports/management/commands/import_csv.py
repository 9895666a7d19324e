"""Import a CSV or XLSX file from the shell, with the same mapping, checks and results as the pages."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.exceptions import ValidationError
from imports.fields import auto_mapping, fields_for
from imports.management.acting_user import acting_user
from imports.models import ImportKind
from imports.readers import read_table
from imports.services import CREATED, REJECTED, UNCHANGED, UPDATED, import_rows, rejected_rows_csv

MODELS = {
    "organization": ImportKind.ORGANIZATION,
    "organizations": ImportKind.ORGANIZATION,
    "contact": ImportKind.CONTACT,
    "contacts": ImportKind.CONTACT,
    "product": ImportKind.PRODUCT,
    "products": ImportKind.PRODUCT,
    "opportunity": ImportKind.OPPORTUNITY,
    "opportunities": ImportKind.OPPORTUNITY,
    "deal": ImportKind.OPPORTUNITY,
    "deals": ImportKind.OPPORTUNITY,
}


class Command(BaseCommand):
    help = (
        "Import organizations, contacts, products or opportunities from a CSV or XLSX file. Columns are matched"
        " to fields automatically; --mapping overrides. Re-running updates instead of duplicating."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", choices=sorted(MODELS), help="what the file holds")
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--mapping",
            help='field=column pairs, comma-separated ("name=Ragione sociale,vat_number=P.IVA"),'
            " JSON, or a .json file; merged over the automatic matches",
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help='a value for rows that leave the field empty, e.g. --set "pipeline=Classic pipeline" (repeatable)',
        )
        parser.add_argument("--user", help="username doing the import (default: the first administrator)")
        parser.add_argument("--rejected", help="where to write the rejected rows (default: FILE.rejected.csv)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, model, file, mapping=None, dry_run=False, user=None, rejected=None, **options):
        defaults = {}
        for pair in options["set"]:
            field, sep, value = pair.partition("=")
            if not sep:
                raise CommandError(f"--set: {pair!r} is not field=value.")
            defaults[field.strip()] = value.strip()
        kind = MODELS[model]
        path = Path(file)
        if not path.exists():
            raise CommandError(f"{file}: no such file.")
        importer = acting_user(user)
        try:
            table = read_table(path.read_bytes(), path.name)
        except ValidationError as exc:
            raise CommandError(f"{file}: {'; '.join(exc.messages)}") from None
        columns = auto_mapping(kind, table.headers)
        columns.update(self._mapping(mapping))
        columns = {k: v for k, v in columns.items() if v}
        unknown = set(defaults) - {f.name for f in fields_for(kind)}
        if unknown:
            raise CommandError(f"--set: {', '.join(sorted(unknown))} is not a field of this import.")
        self.stdout.write("Columns: " + ", ".join(f"{field} ← {header}" for field, header in columns.items()))
        unmatched = [h for h in table.headers if h not in columns.values()]
        if unmatched:
            self.stdout.write("Not imported: " + ", ".join(unmatched))

        bar = tqdm(total=len(table.rows), unit=" rows", disable=options["no_progress"], file=self.stderr._out)

        def progress(done, total):
            bar.update(done - bar.n)

        try:
            result = import_rows(
                kind=kind,
                table=table,
                mapping=columns,
                user=importer,
                dry_run=dry_run,
                progress=progress,
                defaults=defaults,
            )
        except ValidationError as exc:
            fields = {f.name for f in fields_for(kind)}
            raise CommandError(
                "Mapping: "
                + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                + f". Fields: {', '.join(sorted(fields))}."
            ) from None
        finally:
            bar.close()

        counts = result.counts
        prefix = "Dry run, nothing saved: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}{counts[CREATED]} created, {counts[UPDATED]} updated, {counts[UNCHANGED]} unchanged,"
            f" {counts[REJECTED]} rejected (of {len(table.rows)} rows)"
        )
        for outcome in result.rejected[:20]:
            self.stdout.write(f"  line {outcome.line}: {outcome.reason}")
        if result.rejected:
            target = Path(rejected) if rejected else path.with_suffix(path.suffix + ".rejected.csv")
            target.write_bytes(rejected_rows_csv(table, result))
            self.stdout.write(f"Rejected rows with their reason: {target}")

    def _mapping(self, text):
        if not text:
            return {}
        if text.endswith(".json") and Path(text).exists():
            text = Path(text).read_text()
        if text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--mapping: {exc}") from None
        pairs = {}
        for part in text.split(","):
            field, sep, header = part.partition("=")
            if not sep:
                raise CommandError(f"--mapping: {part!r} is not field=column.")
            pairs[field.strip()] = header.strip()
        return pairs
