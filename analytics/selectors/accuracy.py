"""Forecast accuracy: the kept weekly forecast snapshots (``reports.ForecastSnapshot``) against
what was actually won, per month and per rep or team.

For each expected-close month the snapshot is the one the forecast report uses: the last taken
before the month began, or else the first taken in it (one week per month, for every row). The
forecast is its weighted amount; the actual is the converted amount won in the month (closing
date) by the same owners, with the same pipeline / owner / team filters and visibility. Error =
forecast − actual; error % = error ÷ actual.

Two grouped queries, whatever the number of deals and snapshots."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from accounts.permissions import owned_by_visible_q, sees_everything
from core.currency import base_currency
from core.dates import month_label
from opportunities.models import Opportunity
from reports.filters import _day_start
from reports.models import ForecastSnapshot
from reports.selectors.common import local_date

from ..periods import add_months
from .common import CENT, analytics_filter, group_labels, q
from .common import GROUPS as COMMON_GROUPS

GROUPS = ("owner", "team")


@dataclass
class AccuracyRow:
    month: datetime.date
    key: str | None
    label: str
    week_start: datetime.date
    forecast: Decimal
    weighted: Decimal
    actual: Decimal

    @property
    def error(self) -> Decimal:
        return q(self.weighted - self.actual, CENT)

    @property
    def error_percent(self):
        return q(self.error * 100 / self.actual) if self.actual else None

    def as_dict(self) -> dict:
        return {
            "month": f"{self.month:%Y-%m}",
            "key": self.key,
            "label": self.label,
            "snapshot_week": self.week_start.isoformat(),
            "forecast": str(q(self.forecast, CENT)),
            "weighted": str(q(self.weighted, CENT)),
            "actual": str(q(self.actual, CENT)),
            "error": str(self.error),
            "error_percent": None if self.error_percent is None else str(self.error_percent),
        }


@dataclass
class AccuracyReport:
    rows: list[AccuracyRow]
    group_by: str
    currency: str
    filter: object

    def as_dict(self) -> dict:
        return {"group_by": self.group_by, "currency": self.currency, "rows": [r.as_dict() for r in self.rows]}

    def chart(self) -> dict:
        months: dict = {}
        for r in self.rows:
            m = months.setdefault(r.month, [0.0, 0.0])
            m[0] += float(r.weighted)
            m[1] += float(r.actual)
        return {
            "labels": [month_label(m) for m in sorted(months)],
            "forecast": [months[m][0] for m in sorted(months)],
            "actual": [months[m][1] for m in sorted(months)],
            "currency": self.currency,
            "names": {"forecast": _("Weighted forecast"), "actual": _("Won")},
        }


def forecast_accuracy_report(*, user, params=None) -> AccuracyReport:
    params = dict(params.items()) if params is not None else {}
    if not params.get("group_by"):
        params["group_by"] = "owner"
    filterset, group_by = analytics_filter(
        user=user, params=params, date_field="expected", groups=[g for g in COMMON_GROUPS if g[0] in GROUPS]
    )
    data = filterset.form.cleaned_data
    owner_key = "owner_id" if group_by == "owner" else "owner__team_id"
    snapshots = ForecastSnapshot.objects.all()
    if not sees_everything(user):
        snapshots = snapshots.filter(owned_by_visible_q(user))
    for name, lookup in (("pipeline", "pipeline"), ("owner", "owner"), ("team", "owner__team")):
        if data.get(name):
            snapshots = snapshots.filter(**{lookup: data[name]})
    start, end = filterset.date_range()
    if start:
        snapshots = snapshots.filter(month__gte=start.replace(day=1))
    if end:
        snapshots = snapshots.filter(month__lte=end)
    per = (
        snapshots.annotate(k=F(owner_key))
        .values_list("month", "week_start", "k")
        .annotate(amount=Sum("amount"), weighted=Sum("weighted"))
        .order_by("month", "week_start")
    )
    fetched = list(per)
    weeks: dict = {}
    for month, week, _k, _a, _w in fetched:  # ascending weeks: the first, then any before the month
        if month not in weeks or week <= month:
            weeks[month] = week
    rows_by: dict = {month: {} for month in weeks}
    for month, week, k, amount, weighted in fetched:
        if weeks[month] == week:
            rows_by[month][k] = (amount or Decimal(0), weighted or Decimal(0))
    if not weeks:
        return AccuracyReport(rows=[], group_by=group_by, currency=base_currency(), filter=filterset)
    won = Opportunity.objects.visible_to(user).active().won().filter(amount_base__isnull=False)
    for name, lookup in (("pipeline", "pipeline"), ("owner", "owner"), ("team", "owner__team")):
        if data.get(name):
            won = won.filter(**{lookup: data[name]})
    first, last = min(weeks), max(weeks)
    won = won.filter(closed_at__gte=_day_start(first), closed_at__lt=_day_start(add_months(last, 1)))
    actual: dict = {}
    for m, k, total in (
        won.order_by()
        .annotate(m=TruncMonth("closed_at"), k=F(owner_key))
        .values_list("m", "k")
        .annotate(t=Sum("amount_base"))
    ):
        actual[(local_date(m), k)] = total or Decimal(0)
    keys = {k for month in rows_by for k in rows_by[month]} | {k for (m, k) in actual if m in weeks}
    labels = group_labels(group_by, keys)
    rows = []
    for month in sorted(weeks):
        for k in sorted(set(rows_by[month]) | {k for (m, k) in actual if m == month}, key=lambda k: labels[k][2]):
            amount, weighted = rows_by[month].get(k, (Decimal(0), Decimal(0)))
            text, label, _sort = labels[k]
            rows.append(
                AccuracyRow(
                    month=month,
                    key=text,
                    label=label,
                    week_start=weeks[month],
                    forecast=amount,
                    weighted=weighted,
                    actual=actual.get((month, k), Decimal(0)),
                )
            )
    return AccuracyReport(rows=rows, group_by=group_by, currency=base_currency(), filter=filterset)
