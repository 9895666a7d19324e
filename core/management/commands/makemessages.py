"""``makemessages`` with this project's defaults, so ``make messages``, the developer typing
``manage.py makemessages -l it`` and the up-to-date test all extract the same strings.

Needs GNU gettext (``xgettext``, ``msgmerge``): a developer/CI tool, not needed to run the CRM.
"""

from django.core.management.commands import makemessages

# Not user-facing, or not ours.
IGNORED = [
    ".venv",
    "venv",
    "node_modules",
    "static/vendor",
    "staticfiles",
    "media",
    "test-artifacts",
    "bench",
    "tests",
    "*/tests",
    "conftest.py",
]


class Command(makemessages.Command):
    # ``_l`` is this project's alias of ``gettext_lazy`` (export column headers): without the keyword
    # xgettext does not see those strings and the headers stay in English.
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_l"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = list(options.get("ignore_patterns") or []) + IGNORED
        # File names without line numbers: the catalog changes only when the strings do, which
        # keeps merges of parallel branches quiet.
        if options.get("add_location") is None and not options.get("no_location"):
            options["add_location"] = "file"
        options["no_obsolete"] = True
        return super().handle(*args, **options)
