"""The triggers that keep the deal totals (opportunities/rollups.py) are installed here, by the
migration, no longer after every ``migrate``; the tables are computed from the deals once.

Any later migration that alters the deal table must end with ``InstallDealTotals()`` (see the
docstring of opportunities/rollups.py).
"""

from django.db import migrations

from opportunities.rollups import InstallDealTotals


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0008_currency_in_circulation"),
    ]

    operations = [
        # Where the old post_migrate hook recorded what it had installed (signatures): gone.
        migrations.RunSQL("DROP TABLE IF EXISTS opportunities_rollupstate", migrations.RunSQL.noop),
        InstallDealTotals(only=("stage_totals", "closed_months")),
    ]
