import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def lost_from_stage_backfill(apps, schema_editor):
    """The stage each lost deal left when it last entered a lost stage, from its history."""
    Opportunity = apps.get_model("opportunities", "Opportunity")
    StageChange = apps.get_model("pipeline", "StageChange")
    last_lost = (
        StageChange.objects.filter(opportunity=OuterRef("pk"), to_stage__kind="lost")
        .order_by("-changed_at", "-id")
        .values("from_stage_id")[:1]
    )
    Opportunity.objects.filter(status="lost").update(lost_from_stage=Subquery(last_lost))


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0006_deal_totals"),
        ("pipeline", "0002_seed_pipelines"),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="lost_from_stage",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="pipeline.stage",
                verbose_name="lost from stage",
            ),
        ),
        migrations.RunPython(lost_from_stage_backfill, migrations.RunPython.noop),
    ]
