"""PostgreSQL: the ``unaccent`` and ``pg_trgm`` extensions and the two normalising functions the
search indexes and queries share (search/text.py). SQLite gets the functions in Python instead."""

from django.db import migrations

FUNCTIONS = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION crm_search_norm(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
CREATE OR REPLACE FUNCTION crm_search_key(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, $1)), '[^a-z0-9]', '', 'g') $$;
"""

DROP = """
DROP FUNCTION IF EXISTS crm_search_key(text);
DROP FUNCTION IF EXISTS crm_search_norm(text);
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    migration_safety = "Creates two extensions and two functions; no table is locked or changed."

    dependencies = []

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
