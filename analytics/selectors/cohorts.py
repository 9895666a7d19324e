"""Cohorts: the deals created in each month, and which share of them was won, lost or still open
1, 2, 3… months after the start of their month (a deal closed before the end of month k counts as
won/lost "after k months"); with the cohort's final counts and win rate (won / closed).

One grouped query (creation month × status × closing month), whatever the number of deals."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import month_label
from reports.selectors.common import local_date
from reports.selectors.money import CurrencyMode

from ..periods import add_months
from .common import analytics_filter, q, show_field

RATE = Decimal("0.0001")
DEFAULT_AGES = 12
MAX_AGES = 36


@dataclass
class CohortAge:
    months: int
    won: int
    lost: int
    open: int
    total: int

    def share(self, n):
        return q(Decimal(n) / self.total, RATE) if self.total else None

    def as_dict(self) -> dict:
        return {
            "months": self.months,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "won_share": str(self.share(self.won)),
            "lost_share": str(self.share(self.lost)),
            "open_share": str(self.share(self.open)),
        }


@dataclass
class Cohort:
    month: datetime.date
    deals: int = 0
    won: int = 0
    lost: int = 0
    ages: list[CohortAge] = field(default_factory=list)

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def open(self) -> int:
        return self.deals - self.won - self.lost

    @property
    def win_rate(self):
        closed = self.won + self.lost
        return q(Decimal(self.won) / closed, RATE) if closed else None

    def as_dict(self) -> dict:
        return {
            "month": f"{self.month:%Y-%m}",
            "deals": self.deals,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": None if self.win_rate is None else str(self.win_rate),
            "ages": [a.as_dict() for a in self.ages],
        }


@dataclass
class CohortReport:
    cohorts: list[Cohort]
    ages: int
    filter: object

    @property
    def age_numbers(self) -> list[int]:
        return list(range(1, max((len(c.ages) for c in self.cohorts), default=0) + 1))

    def as_dict(self) -> dict:
        return {"ages": self.ages, "cohorts": [c.as_dict() for c in self.cohorts]}

    def chart(self) -> dict:
        return {
            "labels": [c.label for c in self.cohorts],
            "win_rate": [float((c.win_rate or 0) * 100) for c in self.cohorts],
            "deals": [c.deals for c in self.cohorts],
            "names": {"win_rate": _("Win rate (%)"), "deals": _("Deals created")},
        }


def cohort_report(*, user, params=None) -> CohortReport:
    params = dict(params.items()) if params is not None else {}
    raw_ages = params.get("months", "") or DEFAULT_AGES
    try:
        ages = int(raw_ages)
        if not 1 <= ages <= MAX_AGES:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({"months": [_("A number of months from 1 to %(max)s.") % {"max": MAX_AGES}]}) from None
    filterset, _group = analytics_filter(user=user, params=params, date_field="created", groups=[("", "")])
    del filterset.form.fields["group_by"]
    show_field(
        filterset,
        "months",
        forms.IntegerField(label=_("Months followed"), required=False, min_value=1, max_value=MAX_AGES),
    )
    deals = CurrencyMode(filterset.chosen_currency).narrow(filterset.qs).order_by()
    grouped = (
        deals.annotate(cm=TruncMonth("created_at"), clm=TruncMonth("closed_at"))
        .values_list("cm", "status", "clm")
        .annotate(n=Count("pk"))
    )
    this_month = timezone.localdate().replace(day=1)
    raw: dict = {}
    for cm, status, clm, n in grouped:
        month = local_date(cm)
        raw.setdefault(month, []).append((status, local_date(clm) if clm else None, n))
    cohorts = []
    for month in sorted(raw):
        cohort = Cohort(month=month)
        for status, _closed, n in raw[month]:
            cohort.deals += n
            if status == "won":
                cohort.won += n
            elif status == "lost":
                cohort.lost += n
        for k in range(1, ages + 1):
            if add_months(month, k - 1) > this_month:
                break  # that age is not reached yet
            limit = add_months(month, k)
            won = sum(n for s, c, n in raw[month] if s == "won" and c and c < limit)
            lost = sum(n for s, c, n in raw[month] if s == "lost" and c and c < limit)
            cohort.ages.append(
                CohortAge(months=k, won=won, lost=lost, open=cohort.deals - won - lost, total=cohort.deals)
            )
        cohorts.append(cohort)
    filterset.ages = ages
    return CohortReport(cohorts=cohorts, ages=ages, filter=filterset)
