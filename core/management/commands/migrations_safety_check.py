"""Fail when a migration (not in the baseline) would lock a big table or break the running release."""

from django.core.management.base import BaseCommand, CommandError

from core.migration_safety import BASELINE, project_migrations, unsafe_migrations


class Command(BaseCommand):
    help = "Check new migrations for operations unsafe during an upgrade without downtime (core/migration_safety.py)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write-baseline",
            action="store_true",
            help="List every current migration as already released (after a release, not to silence a check).",
        )

    def handle(self, *args, write_baseline=False, **options):
        if write_baseline:
            from django.db.migrations.loader import MigrationLoader

            nodes = project_migrations(MigrationLoader(None, ignore_no_migrations=True))
            BASELINE.write_text(
                "# Migrations already released: not checked again (core/migration_safety.py).\n"
                + "".join(f"{app}.{name}\n" for app, name in sorted(nodes))
            )
            self.stdout.write(f"{len(nodes)} migrations written to {BASELINE.name}.")
            return
        problems = unsafe_migrations()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(
                f"{len(problems)} unsafe migration operation(s). Make the change in steps, or say why it is "
                'safe with migration_safety = "..." on the Migration class.'
            )
        self.stdout.write("Migrations are safe to apply while the previous release runs.")
