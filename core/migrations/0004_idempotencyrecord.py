# IdempotencyRecord moves from integrations to core (the shared API plumbing in core/api/ uses it).
# Only Django's idea of the model moves: the table keeps its name, no row is touched.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_currency_in_circulation"),
        ("integrations", "0002_webhook_visibility"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=200, verbose_name="idempotency key")),
                        ("method", models.CharField(max_length=10, verbose_name="method")),
                        ("path", models.CharField(max_length=500, verbose_name="path")),
                        ("request_hash", models.CharField(max_length=64, verbose_name="request hash")),
                        ("status_code", models.PositiveSmallIntegerField(verbose_name="status code")),
                        ("body", models.JSONField(null=True, verbose_name="response body")),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_index=True, default=django.utils.timezone.now, verbose_name="created at"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "idempotency record",
                        "verbose_name_plural": "idempotency records",
                        "db_table": "integrations_idempotencyrecord",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "key"), name="idempotency_user_key_unique")
                        ],
                    },
                ),
            ],
        ),
    ]
