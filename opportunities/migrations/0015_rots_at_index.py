from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (writes go on during the upgrade); a plain index
    elsewhere (SQLite on laptops and in the quick test run)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("opportunities", "0014_rotting")]

    operations = [
        AddIndexConcurrentlyWherePossible(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True), ("rots_at__isnull", False), ("status", "open")),
                fields=["rots_at"],
                name="opp_rots_at_idx",
            ),
        ),
    ]
