"""The deal's custom field values (customfields app): one JSON column, {} by default.

On SQLite adding the column rebuilds the table, which the stage history's triggers refuse while
they are installed: the totals' triggers are dropped first and installed again at the end, as
opportunities/rollups.py asks of every migration that alters the deal table."""

from django.db import migrations, models

from opportunities.rollups import DropDealTotals, InstallDealTotals


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0011_deal_web_form_campaign"),
    ]

    operations = [
        DropDealTotals(),
        migrations.AddField(
            model_name="opportunity",
            name="custom_fields",
            field=models.JSONField(
                db_default=models.Value({}, models.JSONField()),
                default=dict,
                editable=False,
                verbose_name="custom fields",
            ),
        ),
        InstallDealTotals(),
    ]
