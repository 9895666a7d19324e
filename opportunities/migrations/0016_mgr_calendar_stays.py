"""A stay in a stage counts calendar days (as the time-in-stage report and a person count them),
not elapsed 24-hour days: the stage history's triggers are installed again with the new
definition, and every deal's ``stage_days`` and the kept StageStay table are recomputed."""

from django.db import migrations

from opportunities.rollups import InstallDealTotals


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0015_rots_at_index")]

    operations = [InstallDealTotals()]
