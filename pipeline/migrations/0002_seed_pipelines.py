"""Seed the two pipelines and the lost reasons every installation starts with.

Names are stored in English; ``pipeline/stage_names.py`` holds their translations and templates
show them in the user's language (``display_name``). A stage an administrator creates or renames
keeps its name.
"""

from django.db import migrations

# (name, kind, default probability %, stale after days)
PIPELINES = [
    (
        "Sales pipeline",
        True,
        [
            ("New", "open", 10, 7),
            ("Qualifying", "open", 20, 14),
            ("Demo scheduled", "open", 25, 14),
            ("Pending commitment", "open", 50, 21),
            ("In negotiation", "open", 75, 21),
            ("Won", "won", 100, None),
            ("Lost", "lost", 0, None),
        ],
    ),
    (
        "Classic pipeline",
        False,
        [
            ("Prospecting", "open", 10, 14),
            ("Value proposition", "open", 30, 21),
            ("Quote sent", "open", 60, 21),
            ("Renegotiation", "open", 80, 14),
            ("Closed won", "won", 100, None),
            ("Closed lost", "lost", 0, None),
        ],
    ),
]

LOST_REASONS = [
    "Price",
    "Missing feature",
    "No budget",
    "Chose a competitor",
    "No response",
    "Other",
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    LostReason = apps.get_model("pipeline", "LostReason")
    for name, is_default, stages in PIPELINES:
        pipeline, _created = Pipeline.objects.get_or_create(
            name=name, defaults={"is_default": is_default, "is_system": True}
        )
        for order, (stage_name, kind, probability, stale_days) in enumerate(stages, start=1):
            Stage.objects.get_or_create(
                pipeline=pipeline,
                name=stage_name,
                defaults={
                    "order": order,
                    "kind": kind,
                    "probability": probability,
                    "stale_after_days": stale_days,
                    "is_system": True,
                },
            )
    for order, reason in enumerate(LOST_REASONS, start=1):
        LostReason.objects.get_or_create(name=reason, defaults={"order": order, "is_system": True})


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
