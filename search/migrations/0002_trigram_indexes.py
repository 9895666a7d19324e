"""PostgreSQL: GIN trigram indexes on the normalised expressions the search matches (search/specs.py),
built CONCURRENTLY so writes go on while they build. The indexes are on expressions, not on a
stored copy of the text: nothing has to keep a search column in step with the records."""

from django.db import migrations
from django.db.models.sql import Query

from search.specs import BY_MODEL


def _indexes():
    for (app_label, model_name), spec in BY_MODEL.items():
        for n, expr in enumerate([*spec.text_exprs(), *spec.key_exprs()]):
            yield app_label, model_name, f"search_{model_name[:12]}_{n}_trgm", expr


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, name, expr in _indexes():
        model = apps.get_model(app_label, model_name)
        # The expression's SQL exactly as a query compiles it (unqualified columns), so the
        # planner recognises the query's expression as the indexed one.
        query = Query(model, alias_cols=False)
        compiler = query.get_compiler(connection=schema_editor.connection)
        sql, params = compiler.compile(expr.resolve_expression(query))
        sql = sql % tuple(schema_editor.quote_value(p) for p in params)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {schema_editor.quote_name(model._meta.db_table)} USING gin (({sql}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _app, _model, name, _expr in _indexes():
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    atomic = False
    migration_safety = "Builds indexes CONCURRENTLY (outside a transaction): writes are not blocked."

    dependencies = [
        ("search", "0001_unaccent_trigram_functions"),
        ("opportunities", "0010_funnel_kept_tables"),
        ("contacts", "0003_organization_vat_number_canonical"),
        ("activities", "0005_activity_version"),
        ("quotes", "0004_currency_in_circulation"),
        ("products", "0002_currency_in_circulation"),
        ("documents", "0002_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
