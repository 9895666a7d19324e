"""Writes of the reports app: the weekly forecast snapshot."""

import datetime

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from opportunities.models import Opportunity

from .models import ForecastSnapshot


def week_start_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@transaction.atomic
def forecast_snapshot_take(*, today: datetime.date | None = None) -> int:
    """Store this week's forecast: open, active deals with an expected close date, per pipeline,
    owner and expected close month (count, converted amount, weighted amount).

    Safe to run twice: a week that already has its snapshot is left alone (returns 0); otherwise
    returns the number of rows written. One aggregate query and one insert.
    """
    week = week_start_of(today or timezone.localdate())
    if ForecastSnapshot.objects.filter(week_start=week).exists():
        return 0
    converted = Q(amount_base__isnull=False)
    weighted = ExpressionWrapper(
        F("amount_base") * F("probability") / 100, output_field=DecimalField(max_digits=24, decimal_places=4)
    )
    rows = (
        Opportunity.objects.active()
        .open()
        .filter(expected_close_date__isnull=False)
        .order_by()
        .annotate(month=TruncMonth("expected_close_date"))
        .values("pipeline_id", "owner_id", "month")
        .annotate(
            count=Count("id"), amount=Sum("amount_base", filter=converted), weighted=Sum(weighted, filter=converted)
        )
    )
    snapshots = [
        ForecastSnapshot(
            week_start=week,
            pipeline_id=row["pipeline_id"],
            owner_id=row["owner_id"],
            month=row["month"],
            count=row["count"],
            amount=row["amount"] or 0,
            weighted=row["weighted"] or 0,
        )
        for row in rows
    ]
    # ignore_conflicts: two workers racing on the same week write each row once.
    ForecastSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True, batch_size=1000)
    return len(snapshots)
