"""Webhook secrets in the Standard Webhooks form (``whsec_`` + base64 of the key bytes).

A secret stored before was raw text whose UTF-8 bytes were the HMAC key. Each becomes ``whsec_`` +
base64 of exactly those bytes, so the key does not change: the deprecated ``X-CRM-Signature`` header
keeps its value and receivers checking it keep working. Such rows are flagged ``secret_converted`` so
the webhooks page shows their owner the new form of their secret."""

import base64

from django.db import migrations, models


def to_standard_form(apps, schema_editor):
    subscription_model = apps.get_model("integrations", "WebhookSubscription")
    batch = []
    for hook in subscription_model.objects.only("pk", "secret").iterator(chunk_size=1000):
        hook.secret = "whsec_" + base64.b64encode(hook.secret.encode()).decode()
        hook.secret_converted = True
        batch.append(hook)
        if len(batch) >= 1000:
            subscription_model.objects.bulk_update(batch, ["secret", "secret_converted"])
            batch = []
    subscription_model.objects.bulk_update(batch, ["secret", "secret_converted"])


def to_raw_form(apps, schema_editor):
    subscription_model = apps.get_model("integrations", "WebhookSubscription")
    for hook in subscription_model.objects.filter(secret_converted=True).only("pk", "secret"):
        hook.secret = base64.b64decode(hook.secret.removeprefix("whsec_")).decode()
        hook.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_idempotencyrecord_to_core")]

    # A longer varchar is a catalog change in PostgreSQL (no rewrite, no long lock); the new column
    # has a database default, so the running release's INSERTs keep working.
    migration_safety = "varchar(200) -> varchar(300) only widens the column: PostgreSQL rewrites nothing"

    operations = [
        migrations.AlterField(
            model_name="webhooksubscription",
            name="secret",
            field=models.CharField(max_length=300, verbose_name="secret"),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="secret_converted",
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name="secret converted"),
        ),
        migrations.RunPython(to_standard_form, to_raw_form),
    ]
