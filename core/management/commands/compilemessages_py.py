from django.core.management.base import BaseCommand, CommandError

from core.i18n import catalog_problems, compile_catalogs, po_files


class Command(BaseCommand):
    help = "Compile the .po catalogs in LOCALE_PATHS to .mo with Babel (no GNU gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Compile even the catalogs that are up to date.")
        parser.add_argument(
            "--check", action="store_true", help="Also list untranslated, fuzzy or broken entries; fail if any."
        )

    def handle(self, *args, force=False, check=False, **options):
        written = compile_catalogs(force=force)
        for path in written:
            self.stdout.write(f"compiled {path}")
        if not written:
            self.stdout.write("translation catalogs are up to date")
        if check:
            problems = [problem for path in po_files() for problem in catalog_problems(path)]
            for problem in problems:
                self.stdout.write(str(problem))
            if problems:
                raise CommandError(f"{len(problems)} catalog entries to translate or fix (see above).")
            self.stdout.write("every catalog entry is translated")
