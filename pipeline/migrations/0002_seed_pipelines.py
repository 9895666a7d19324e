"""Seed the two pipelines and the lost reasons every installation starts with.

Names are stored in English and marked for translation: templates show them in the user's
language (``Stage.display_name``). A stage an administrator creates or renames keeps its name.
"""

from django.db import migrations
from django.utils.translation import gettext_noop as _

# (name, kind, default probability %, stale after days)
PIPELINES = [
    (
        _("Sales pipeline"),
        True,
        [
            (_("New"), "open", 10, 7),
            (_("Qualifying"), "open", 20, 14),
            (_("Demo scheduled"), "open", 25, 14),
            (_("Pending commitment"), "open", 50, 21),
            (_("In negotiation"), "open", 75, 21),
            (_("Won"), "won", 100, None),
            (_("Lost"), "lost", 0, None),
        ],
    ),
    (
        _("Classic pipeline"),
        False,
        [
            (_("Prospecting"), "open", 10, 14),
            (_("Value proposition"), "open", 30, 21),
            (_("Quote sent"), "open", 60, 21),
            (_("Renegotiation"), "open", 80, 14),
            (_("Closed won"), "won", 100, None),
            (_("Closed lost"), "lost", 0, None),
        ],
    ),
]

LOST_REASONS = [
    _("Price"),
    _("Missing feature"),
    _("No budget"),
    _("Chose a competitor"),
    _("No response"),
    _("Other"),
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
