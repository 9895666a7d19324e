"""Webhooks deliver only what the subscriber may see, and only what happened after they subscribed.

Existing deliveries learn which record they are about (from their payload); one that names none is
never sent nor shown (fail closed). Existing subscriptions start after the last outbox event that is
not newer than they are, so a backlog of older events is not delivered to them."""

from django.db import migrations, models
from django.db.models import Max

import integrations.models

KINDS = ("opportunity", "organization", "contact")


def backfill(apps, schema_editor):
    delivery_model = apps.get_model("integrations", "WebhookDelivery")
    subscription_model = apps.get_model("integrations", "WebhookSubscription")
    event_model = apps.get_model("core", "OutboxEvent")
    batch = []
    for delivery in delivery_model.objects.only("pk", "topic", "payload").iterator(chunk_size=1000):
        kind = delivery.topic.partition(".")[0]
        data = delivery.payload.get("data") if isinstance(delivery.payload, dict) else None
        record = data.get(kind) if isinstance(data, dict) and kind in KINDS else None
        record_id = record.get("id") if isinstance(record, dict) else None
        if type(record_id) is int:
            delivery.record_kind, delivery.record_id = kind, record_id
            batch.append(delivery)
        if len(batch) >= 1000:
            delivery_model.objects.bulk_update(batch, ["record_kind", "record_id"])
            batch = []
    delivery_model.objects.bulk_update(batch, ["record_kind", "record_id"])
    for subscription in subscription_model.objects.all():
        last = event_model.objects.filter(created_at__lte=subscription.created_at).aggregate(last=Max("pk"))["last"]
        subscription.after_event_id = last or 0
        subscription.save(update_fields=["after_event_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_plausible_dates"),
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="record_id",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="record"),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="record_kind",
            field=models.CharField(blank=True, max_length=20, verbose_name="record kind"),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="after_event_id",
            field=models.BigIntegerField(default=0, editable=False, verbose_name="after event"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="after_event_id",
            field=models.BigIntegerField(
                default=integrations.models.outbox_position,
                editable=False,
                help_text="Only events newer than this outbox event are delivered.",
                verbose_name="after event",
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "pending"),
                    ("delivered", "delivered"),
                    ("failed", "failed"),
                    ("skipped", "skipped"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
