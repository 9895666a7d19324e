"""Targets and their attainment: what was achieved in the period, and the forecast to its end.

Achieved, per metric, over the deals / activities the reader may see:

* ``won_amount``: the converted amount (``amount_base``) of the deals won in the period (closing
  date, in the active time zone); deals without a rate are left out, as in every total;
* ``won_count``: the number of deals won in the period;
* ``activities_done``: the activities marked done in the period.

A team's figure adds up its current members'. The **forecast** to the period's end adds to what is
achieved the weighted open pipeline expected to close in the period (amount × probability; for a
count, the probability), or for activities the open activities due in the period.

Queries: one for the targets, and one grouped query per metric shown, over the span of the periods
shown (grouped by owner, team and month): the same few queries whatever the number of deals.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_anonymous, sees_everything, team_ids
from activities.models import Activity
from core.currency import base_currency
from opportunities.models import Opportunity

from ..filters import TargetFilterForm
from ..models import Metric, PeriodKind, SalesTarget
from ..periods import add_months, period_end, period_label, period_start

CENT = Decimal("0.01")
ZERO = Decimal("0")


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _month(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


@dataclass
class TargetRow:
    target: SalesTarget
    label: str
    achieved: Decimal = ZERO
    pipeline: Decimal = ZERO

    @property
    def period_end(self) -> datetime.date:
        return period_end(self.target.period_kind, self.target.period_start)

    @property
    def period_label(self) -> str:
        return period_label(self.target.period_kind, self.target.period_start)

    @property
    def percent(self) -> Decimal | None:
        """Achieved / target, as a percentage to one decimal."""
        if not self.target.value:
            return None
        return (self.achieved * 100 / self.target.value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def forecast(self) -> Decimal:
        return (self.achieved + self.pipeline).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def forecast_percent(self) -> Decimal | None:
        if not self.target.value:
            return None
        return (self.forecast * 100 / self.target.value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def is_money(self) -> bool:
        return self.target.metric == Metric.WON_AMOUNT

    def as_dict(self) -> dict:
        t = self.target
        return {
            "id": t.pk,
            "owner": t.owner_id,
            "team": t.team_id,
            "label": self.label,
            "period_kind": t.period_kind,
            "period_start": t.period_start.isoformat(),
            "period": self.period_label,
            "metric": t.metric,
            "target": str(t.value),
            "achieved": str(self.achieved.quantize(CENT, rounding=ROUND_HALF_UP)),
            "percent": None if self.percent is None else str(self.percent),
            "forecast": str(self.forecast),
            "forecast_percent": None if self.forecast_percent is None else str(self.forecast_percent),
        }


@dataclass
class TargetsReport:
    rows: list[TargetRow]
    form: TargetFilterForm
    period_kind: str
    start: datetime.date
    currency: str = field(default_factory=base_currency)

    @property
    def filter(self):
        return self

    @property
    def date_basis(self) -> str:
        return _("target period")

    @property
    def period_text(self) -> str:
        return period_label(self.period_kind, self.start)

    def as_dict(self) -> dict:
        return {
            "period_kind": self.period_kind,
            "period_start": self.start.isoformat(),
            "currency": self.currency,
            "rows": [r.as_dict() for r in self.rows],
        }

    def chart(self) -> dict:
        return {
            "labels": [f"{r.label} · {r.target.get_metric_display()}" for r in self.rows],
            "percent": [float(r.percent or 0) for r in self.rows],
            "forecast_percent": [float(r.forecast_percent or 0) for r in self.rows],
            "names": {"percent": _("Achieved (%)"), "forecast_percent": _("Forecast (%)")},
        }


def targets_visible_to(user):
    """The targets ``user`` may read: an admin, all; others, their own and those of their teams and
    their teams' members."""
    if is_anonymous(user):
        return SalesTarget.objects.none()
    targets = SalesTarget.objects.all()
    if not sees_everything(user):
        teams = team_ids(user)
        targets = targets.filter(Q(owner=user) | Q(owner__team_id__in=teams) | Q(team_id__in=teams))
    return targets


def _figures(*, user, metric: str, first: datetime.date, end: datetime.date):
    """{(owner id, team id, month): (achieved, pipeline)} for the months in [first, end)."""
    out: dict = defaultdict(lambda: [ZERO, ZERO])
    if metric == Metric.ACTIVITIES_DONE:
        activities = Activity.objects.visible_to(user).order_by()
        done = (
            activities.filter(done=True, done_at__gte=_aware(first), done_at__lt=_aware(end))
            .annotate(m=TruncMonth("done_at"))
            .values_list("owner_id", "owner__team_id", "m")
            .annotate(n=Count("pk"))
        )
        due = (
            activities.filter(done=False, due_at__gte=_aware(first), due_at__lt=_aware(end))
            .annotate(m=TruncMonth("due_at"))
            .values_list("owner_id", "owner__team_id", "m")
            .annotate(n=Count("pk"))
        )
        for owner, team, month, n in done:
            out[(owner, team, _month(month))][0] += n
        for owner, team, month, n in due:
            out[(owner, team, _month(month))][1] += n
        return out
    deals = Opportunity.objects.visible_to(user).active().order_by()
    won = deals.won().filter(closed_at__gte=_aware(first), closed_at__lt=_aware(end))
    open_ = deals.open().filter(expected_close_date__gte=first, expected_close_date__lt=end)
    if metric == Metric.WON_AMOUNT:
        achieved = Sum("amount_base")
        weighted = Sum(
            ExpressionWrapper(
                F("amount_base") * F("probability") / 100, output_field=DecimalField(max_digits=24, decimal_places=4)
            )
        )
    else:
        achieved = Count("pk")
        weighted = Sum(
            ExpressionWrapper(
                F("probability") / Decimal(100), output_field=DecimalField(max_digits=10, decimal_places=4)
            )
        )
    for owner, team, month, n in (
        won.annotate(m=TruncMonth("closed_at")).values_list("owner_id", "owner__team_id", "m").annotate(n=achieved)
    ):
        out[(owner, team, _month(month))][0] += Decimal(n or 0)
    for owner, team, month, n in (
        open_.annotate(m=TruncMonth("expected_close_date"))
        .values_list("owner_id", "owner__team_id", "m")
        .annotate(n=weighted)
    ):
        out[(owner, team, _month(month))][1] += Decimal(n or 0)
    return out


def target_rows(*, user, targets) -> list[TargetRow]:
    """The attainment of each of ``targets`` (already narrowed to what ``user`` may read)."""
    targets = list(targets.select_related("owner", "team"))
    rows = [
        TargetRow(target=t, label=(t.owner.get_full_name() or t.owner.username) if t.owner else t.team.name)
        for t in targets
    ]
    for metric in {t.metric for t in targets}:
        mine = [r for r in rows if r.target.metric == metric]
        first = min(r.target.period_start for r in mine)
        end = max(r.period_end for r in mine)
        figures = _figures(user=user, metric=metric, first=first, end=end)
        for row in mine:
            t = row.target
            months = set()
            month = t.period_start
            while month < row.period_end:
                months.add(month)
                month = add_months(month, 1)
            for (owner, team, month), (achieved, pipeline) in figures.items():
                if month in months and ((t.owner_id and owner == t.owner_id) or (t.team_id and team == t.team_id)):
                    row.achieved += achieved
                    row.pipeline += pipeline
    return rows


def targets_report(*, user, params=None) -> TargetsReport:
    """The targets of the month or quarter holding ``day`` (default: the current quarter), with
    target, achieved, %, and the forecast to the period's end. Raises ValidationError naming the
    bad filter."""
    form = TargetFilterForm(params if params is not None else {}, user=user)
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    data = form.cleaned_data
    kind = data.get("period_kind") or PeriodKind.QUARTER
    start = period_start(kind, data.get("day") or timezone.localdate())
    targets = targets_visible_to(user).filter(period_kind=kind, period_start=start)
    if data.get("team"):
        targets = targets.filter(Q(team=data["team"]) | Q(owner__team=data["team"]))
    if data.get("owner"):
        targets = targets.filter(owner=data["owner"])
    if data.get("metric"):
        targets = targets.filter(metric=data["metric"])
    rows = target_rows(
        user=user, targets=targets.order_by("team__name", "owner__last_name", "owner__first_name", "metric")
    )
    return TargetsReport(rows=rows, form=form, period_kind=kind, start=start)


def targets_home(*, user, today: datetime.date | None = None) -> dict:
    """The attainment shown on the home page: the user's own targets for the current month and
    quarter and, for a manager, those of their teams."""
    today = today or timezone.localdate()
    current = Q(period_kind=PeriodKind.MONTH, period_start=period_start(PeriodKind.MONTH, today)) | Q(
        period_kind=PeriodKind.QUARTER, period_start=period_start(PeriodKind.QUARTER, today)
    )
    visible = targets_visible_to(user).filter(current)
    mine = visible.filter(owner=user)
    out = {"mine": target_rows(user=user, targets=mine.order_by("period_kind", "metric"))}
    if user.is_manager or sees_everything(user):
        teams = team_ids(user)
        out["team"] = target_rows(
            user=user,
            targets=visible.filter(Q(team_id__in=teams) | Q(owner__team_id__in=teams))
            .exclude(owner=user)
            .order_by("team__name", "owner__last_name", "period_kind", "metric"),
        )
    else:
        out["team"] = []
    return out
