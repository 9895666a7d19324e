from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self):
        from .text import sqlite_functions_install

        # SQLite has no unaccent/pg_trgm: the same SQL function names are provided in Python on
        # every new SQLite connection (search/text.py). PostgreSQL gets them from a migration.
        connection_created.connect(sqlite_functions_install, dispatch_uid="search_sqlite_functions")
