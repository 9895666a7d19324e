"""The forecast: the open pipeline by expected close month, and past forecasts against what was won."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, DecimalField, ExpressionWrapper, F, Sum, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import owned_by_visible_q, sees_everything
from core.currency import quantize_cents
from core.dates import month_label
from opportunities.deal_filters import DealFilters
from opportunities.models import Opportunity
from pipeline.models import Pipeline
from pipeline.selectors import pipeline_summary

from ..filters import ReportFilter
from ..models import ForecastSnapshot
from .common import local_date, report_filter
from .money import ZERO, CurrencyMode, Money


@dataclass
class ForecastMonth:
    month: datetime.date | None
    count: int = 0
    amount: Money = field(default_factory=Money)
    weighted_raw: Decimal = ZERO  # Σ amount × probability, divided by 100 only at the end
    name: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return month_label(self.month) if self.month else _("No expected date")

    @property
    def unweighted(self) -> Decimal:
        return quantize_cents(self.amount.amount)

    @property
    def weighted(self) -> Decimal:
        return quantize_cents(self.weighted_raw / 100)

    def merge(self, other: "ForecastMonth"):
        self.count += other.count
        self.amount.merge(other.amount)
        self.weighted_raw += other.weighted_raw

    def as_dict(self) -> dict:
        return {
            "month": f"{self.month.year}-{self.month.month:02d}" if self.month else None,
            "label": self.label,
            "count": self.count,
            "amount": str(self.unweighted),
            "weighted": str(self.weighted),
            "unconverted": {code: str(quantize_cents(v)) for code, v in sorted(self.amount.unconverted.items())},
        }


@dataclass
class ForecastVersusActual:
    month: datetime.date
    week_start: datetime.date
    forecast: Decimal
    weighted: Decimal
    actual: Decimal

    @property
    def label(self) -> str:
        return month_label(self.month)

    def as_dict(self) -> dict:
        return {
            "month": f"{self.month.year}-{self.month.month:02d}",
            "snapshot_week": self.week_start.isoformat(),
            "forecast": str(self.forecast),
            "weighted": str(self.weighted),
            "actual": str(self.actual),
        }


@dataclass
class ForecastReport:
    currency: str
    months: list[ForecastMonth]
    total: ForecastMonth
    overdue: ForecastMonth
    overdue_deals: list
    by_stage: list
    pipeline: Pipeline | None
    versus_actual: list[ForecastVersusActual]
    filter: ReportFilter

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "months": [m.as_dict() for m in self.months],
            "total": self.total.as_dict(),
            "overdue": self.overdue.as_dict(),
            "overdue_deals": [
                {
                    "id": d.pk,
                    "name": d.name,
                    "expected_close_date": d.expected_close_date.isoformat(),
                    "amount": str(d.amount),
                    "currency": d.currency,
                    "owner": str(d.owner),
                }
                for d in self.overdue_deals
            ],
            "forecast_versus_actual": [v.as_dict() for v in self.versus_actual],
        }

    def chart(self) -> dict:
        dated = [m for m in self.months if m.month]
        return {
            "labels": [m.label for m in dated],
            "unweighted": [float(m.unweighted) for m in dated],
            "weighted": [float(m.weighted) for m in dated],
            "currency": self.currency,
            "versus": {
                "labels": [v.label for v in self.versus_actual],
                "forecast": [float(v.weighted) for v in self.versus_actual],
                "actual": [float(v.actual) for v in self.versus_actual],
            },
            "names": {
                "amount": _("Amount"),
                "weighted": _("Weighted amount"),
                "forecast": _("Weighted forecast"),
                "won": _("Won"),
            },
        }


OVERDUE_LIST_LIMIT = 50


def forecast_report(*, user, params=None) -> ForecastReport:
    """The open pipeline by expected close month, unweighted and weighted (amount × probability),
    the deals whose expected close date has passed, the per-stage totals of the board
    (``pipeline_summary``) and, once weekly snapshots exist, forecast versus actual.

    The period filters the expected close date. A fixed number of queries.
    """
    filterset = report_filter(user=user, params=params, date_field="expected")
    mode = CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(filterset.qs.open()).order_by()
    today = timezone.localdate()
    weighted = ExpressionWrapper(
        F(mode.column) * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    rows = (
        deals.annotate(
            month=TruncMonth("expected_close_date"),
            overdue=Case(When(expected_close_date__lt=today, then=True), default=False, output_field=BooleanField()),
        )
        .values("month", "overdue", "currency")
        .annotate(
            count=Count("id"),
            converted_sum=mode.sum(),
            weighted=Sum(weighted, filter=mode.converted),
            raw_sum=mode.raw_sum(),
        )
    )
    months: dict = {}
    total = ForecastMonth(month=None, name=_("Total"))
    overdue = ForecastMonth(month=None, name=_("Overdue"))
    for row in rows:
        part = ForecastMonth(month=row["month"], count=row["count"], weighted_raw=row["weighted"] or ZERO)
        part.amount.add(row["converted_sum"], row["raw_sum"], row["currency"])
        months.setdefault(row["month"], ForecastMonth(month=row["month"])).merge(part)
        total.merge(part)
        if row["overdue"]:
            overdue.merge(part)
    ordered = sorted(months.values(), key=lambda m: (m.month is None, m.month or datetime.date.min))
    overdue_deals = list(
        deals.filter(expected_close_date__lt=today)
        .select_related("owner")
        .order_by("expected_close_date", "id")[:OVERDUE_LIST_LIMIT]
    )

    pipeline = filterset.form.cleaned_data.get("pipeline") or Pipeline.objects.default()
    by_stage = (
        pipeline_summary(user=user, pipeline=pipeline, filters=_forecast_deal_filters(filterset))
        if pipeline and not mode.currency
        else []
    )
    versus = [] if mode.currency else _forecast_versus_actual(user=user, filterset=filterset)
    return ForecastReport(
        currency=mode.code,
        months=ordered,
        total=total,
        overdue=overdue,
        overdue_deals=overdue_deals,
        by_stage=by_stage,
        pipeline=pipeline,
        versus_actual=versus,
        filter=filterset,
    )


def _forecast_deal_filters(filterset: ReportFilter) -> DealFilters:
    """The open deals the forecast's filters select, as the board's per-stage totals take them
    (the period is a range of expected close dates)."""
    data = filterset.form.cleaned_data
    start, end = filterset.date_range()
    fields = ("pipeline", "team", "owner", "type", "lead_source", "product")
    return DealFilters.from_cleaned_data(
        {**{name: data.get(name) for name in fields}, "status": "open", "close_after": start, "close_before": end}
    )


def _forecast_versus_actual(*, user, filterset: ReportFilter) -> list[ForecastVersusActual]:
    """For each month a snapshot forecast: the last snapshot taken before the month began (or the
    first one taken in it) against the amount actually won in that month. Two queries."""
    data = filterset.form.cleaned_data
    snapshots = ForecastSnapshot.objects.all()
    if not sees_everything(user):
        snapshots = snapshots.filter(owned_by_visible_q(user))
    if data.get("pipeline"):
        snapshots = snapshots.filter(pipeline=data["pipeline"])
    if data.get("owner"):
        snapshots = snapshots.filter(owner=data["owner"])
    if data.get("team"):
        snapshots = snapshots.filter(owner__team=data["team"])
    start, end = filterset.date_range()
    if start:
        snapshots = snapshots.filter(month__gte=start.replace(day=1))
    if end:
        snapshots = snapshots.filter(month__lte=end)
    per_week = snapshots.values("month", "week_start").annotate(amount=Sum("amount"), weighted=Sum("weighted"))
    chosen: dict[datetime.date, dict] = {}
    for row in per_week.order_by("month", "week_start"):
        month, week = row["month"], row["week_start"]
        current = chosen.get(month)
        # Ascending weeks: the first row, then any later one still taken before the month began.
        if current is None or week <= month:
            chosen[month] = row
    if not chosen:
        return []
    # The actual: won deals closed in those months, with the same owner/team/pipeline filters.
    won = Opportunity.objects.visible_to(user).active().won().filter(amount_base__isnull=False)
    for name, lookup in (("pipeline", "pipeline"), ("owner", "owner"), ("team", "owner__team")):
        if data.get(name):
            won = won.filter(**{lookup: data[name]})
    first, last = min(chosen), max(chosen)
    won = won.filter(
        closed_at__gte=timezone.make_aware(datetime.datetime.combine(first, datetime.time.min)),
        closed_at__lt=timezone.make_aware(
            datetime.datetime.combine(
                (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1), datetime.time.min
            )
        ),
    )
    actual = {
        local_date(row["m"]): row["total"]
        for row in won.order_by().annotate(m=TruncMonth("closed_at")).values("m").annotate(total=Sum("amount_base"))
    }
    return [
        ForecastVersusActual(
            month=month,
            week_start=row["week_start"],
            forecast=quantize_cents(row["amount"] or ZERO),
            weighted=quantize_cents(row["weighted"] or ZERO),
            actual=quantize_cents(actual.get(month) or ZERO),
        )
        for month, row in sorted(chosen.items())
    ]
