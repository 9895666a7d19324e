# IdempotencyRecord now belongs to core (core/migrations/0004 takes over its table as it is).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_webhook_visibility"),
        ("core", "0004_idempotencyrecord"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="IdempotencyRecord")]),
    ]
