"""A GIN index (jsonb_path_ops) on the deals' custom field values, PostgreSQL only.

Filtering deals by a choice (``?cf_settore=pa``, ``__in=``) is written as JSON containment
(``custom_fields @> '{"settore": "pa"}'``, customfields/filters.py), which this index answers
without reading the deal table. ``jsonb_path_ops`` is smaller and faster than the default
``jsonb_ops`` for ``@>``, the only operator we use on it. Built CONCURRENTLY (writes go on), in a
migration that is not atomic; SQLite has no such index and skips it."""

from django.db import migrations

INDEX = "opp_custom_fields_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
            "ON opportunities_opportunity USING gin (custom_fields jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    migration_safety = "CREATE INDEX CONCURRENTLY on PostgreSQL: writes to the deal table go on while it builds"

    dependencies = [("opportunities", "0012_custom_fields")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
