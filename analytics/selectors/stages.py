"""Where deals stall and how fast the pipeline turns.

**Time in stage** (:func:`stage_time_report`): per stage (and per group: owner, team, product,
pipeline, lead source, type), the average and median calendar days of the *finished* stays (from
entering a stage to entering the next) of the deals created in the period, read by the funnel's
own :func:`reports.selectors.funnel.stays_of_deals` (one definition of a stay's days, kept from
the stage history by the database: 1 March to 5 March is 4 days, whatever the hours); apart, the
deals *still* in a stage, counted to today in calendar days too; the stage-to-stage conversion
(the funnel's, same filters); the open deals stuck longest in each stage.

**Velocity** (:func:`velocity_report`): per group, open deals × win rate × average won amount ÷
average sales cycle (days), an amount per day, for the period (closing date) and the period of the
same length before it. Open deals are those open at the end of the period (created before it
ended, not closed by then); win rate, average won amount and cycle (calendar days from creation to
won) are over the deals closed in the period.

Queries: a fixed few per report (grouped in the database), whatever the number of deals.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from pipeline.models import Stage
from reports.filters import _day_start
from reports.selectors.funnel import funnel_report, median, stays_of_deals
from reports.selectors.money import CurrencyMode
from reports.selectors.won_lost import DaysBetween

from .common import CENT, analytics_filter, group_key, group_labels, previous_period, q, undated

STUCK_PER_STAGE = 5


@dataclass
class StageTime:
    stage: Stage
    key: str | None
    label: str
    finished: list = field(default_factory=list)  # [(days, stays)]
    current: list = field(default_factory=list)  # [(days, deals)] still in the stage, to today

    @staticmethod
    def _avg(histogram):
        n = sum(c for _d, c in histogram)
        return q(Decimal(sum(d * c for d, c in histogram)) / n) if n else None

    @staticmethod
    def _median(histogram):
        return q(median(histogram))

    @property
    def finished_count(self):
        return sum(c for _d, c in self.finished)

    @property
    def current_count(self):
        return sum(c for _d, c in self.current)

    @property
    def avg_days(self):
        return self._avg(self.finished)

    @property
    def median_days(self):
        return self._median(self.finished)

    @property
    def current_avg_days(self):
        return self._avg(self.current)

    @property
    def current_median_days(self):
        return self._median(self.current)

    def as_dict(self) -> dict:
        text = lambda v: None if v is None else str(v)  # noqa: E731
        return {
            "stage": self.stage.pk,
            "stage_label": self.stage.display_name,
            "key": self.key,
            "label": self.label,
            "stays": self.finished_count,
            "avg_days": text(self.avg_days),
            "median_days": text(self.median_days),
            "in_stage_now": self.current_count,
            "in_stage_now_avg_days": text(self.current_avg_days),
            "in_stage_now_median_days": text(self.current_median_days),
        }


@dataclass
class StageTimeReport:
    rows: list[StageTime]
    stuck: dict  # stage -> [deal]
    funnel: object
    filter: object
    group_by: str

    def as_dict(self) -> dict:
        return {
            "group_by": self.group_by,
            "rows": [r.as_dict() for r in self.rows],
            "conversion": [
                {
                    "stage": s.stage.pk,
                    "label": s.stage.display_name,
                    "reached": s.reached,
                    "conversion": None if s.conversion is None else str(s.conversion),
                }
                for s in (self.funnel.steps if self.funnel else [])
            ],
            "stuck": [
                {
                    "stage": stage.pk,
                    "deals": [
                        {"id": d.pk, "name": d.name, "owner": str(d.owner), "days": d.days_in_stage} for d in deals
                    ],
                }
                for stage, deals in self.stuck.items()
            ],
        }

    def chart(self) -> dict:
        overall = [r for r in self.rows if r.key == self.rows[0].key] if self.rows else []
        return {
            "labels": [r.stage.display_name for r in overall],
            "avg_days": [float(r.avg_days or 0) for r in overall],
            "median_days": [float(r.median_days or 0) for r in overall],
            "names": {"avg_days": _("Average days"), "median_days": _("Median days")},
        }


def stage_time_report(*, user, params=None) -> StageTimeReport:
    """Average and median days in each stage (finished stays; still-in-stage apart, to today),
    conversion, and the deals stuck longest, for the deals created in the period."""
    filterset, group_by = analytics_filter(user=user, params=params, date_field="created")
    mode = CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(filterset.qs).order_by()
    key = group_key(group_by)
    today = timezone.localdate()

    cells: dict = {}
    for k, stage_id, days, n in stays_of_deals(deals, key=key):
        cells.setdefault((k, int(stage_id)), [[], []])[0].append((int(days), int(n)))
    current = (
        deals.open()
        .annotate(k=key, day=TruncDate("stage_entered_at"))
        .values_list("k", "stage_id", "day")
        .annotate(n=Count("pk"))
    )
    for k, stage_id, day, n in current:
        if isinstance(day, datetime.datetime):
            day = day.date()
        cells.setdefault((k, stage_id), [[], []])[1].append(((today - day).days, n))

    stages = {s.pk: s for s in Stage.objects.filter(pk__in={s for _k, s in cells}).select_related("pipeline")}
    labels = group_labels(group_by, {k for k, _s in cells})
    rows = [
        StageTime(stage=stages[s], key=labels[k][0], label=labels[k][1], finished=f, current=c)
        for (k, s), (f, c) in cells.items()
    ]
    sort = {text: order for text, _label, order in labels.values()}
    rows.sort(key=lambda r: (sort.get(r.key, (1, "")), r.stage.pipeline_id, r.stage.order))

    stuck_rows = (
        deals.open()
        .select_related("owner", "stage")
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("stage_entered_at").asc(), F("pk").asc()]
            )
        )
        .filter(rank__lte=STUCK_PER_STAGE)
        .order_by("stage__pipeline_id", "stage__order", "rank")
    )
    stuck: dict = defaultdict(list)
    for deal in stuck_rows:
        deal.days_in_stage = (today - timezone.localtime(deal.stage_entered_at).date()).days
        stuck[deal.stage].append(deal)

    try:
        funnel = funnel_report(user=user, params={k: v for k, v in (params or {}).items() if k != "group_by"})
    except ValidationError:  # no pipeline yet: the conversion part is simply empty
        funnel = None
    return StageTimeReport(rows=rows, stuck=dict(stuck), funnel=funnel, filter=filterset, group_by=group_by)


# --- Velocity ------------------------------------------------------------------------------------


@dataclass
class VelocityFigures:
    open: int = 0
    won: int = 0
    lost: int = 0
    won_amount: Decimal = Decimal(0)
    won_priced: int = 0  # won deals with an amount in the report's currency
    cycle_days: int = 0

    @property
    def win_rate(self):
        closed = self.won + self.lost
        return q(Decimal(self.won) / closed, Decimal("0.0001")) if closed else None

    @property
    def avg_won_amount(self):
        return q(self.won_amount / self.won_priced, CENT) if self.won_priced else None

    @property
    def avg_cycle_days(self):
        return q(Decimal(self.cycle_days) / self.won) if self.won else None

    @property
    def velocity(self):
        """open × win rate × average won amount ÷ average cycle, from the exact parts."""
        closed = self.won + self.lost
        if not (closed and self.won_priced and self.cycle_days):
            return None
        value = (
            Decimal(self.open)
            * (Decimal(self.won) / closed)
            * (self.won_amount / self.won_priced)
            / (Decimal(self.cycle_days) / self.won)
        )
        return q(value, CENT)

    def as_dict(self) -> dict:
        text = lambda v: None if v is None else str(v)  # noqa: E731
        return {
            "open_deals": self.open,
            "won": self.won,
            "lost": self.lost,
            "win_rate": text(self.win_rate),
            "avg_won_amount": text(self.avg_won_amount),
            "avg_cycle_days": text(self.avg_cycle_days),
            "velocity": text(self.velocity),
        }


@dataclass
class VelocityRow:
    key: str | None
    label: str
    current: VelocityFigures
    previous: VelocityFigures

    @property
    def change(self):
        now, before = self.current.velocity, self.previous.velocity
        if now is None or not before:
            return None
        return q((now - before) * 100 / before)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
            "change_percent": None if self.change is None else str(self.change),
        }


@dataclass
class VelocityReport:
    rows: list[VelocityRow]
    total: VelocityRow
    start: datetime.date
    end: datetime.date
    previous_start: datetime.date
    previous_end: datetime.date
    currency: str
    filter: object
    group_by: str

    def as_dict(self) -> dict:
        return {
            "group_by": self.group_by,
            "currency": self.currency,
            "period": [self.start.isoformat(), self.end.isoformat()],
            "previous_period": [self.previous_start.isoformat(), self.previous_end.isoformat()],
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
        }

    def chart(self) -> dict:
        return {
            "labels": [r.label for r in self.rows],
            "current": [float(r.current.velocity or 0) for r in self.rows],
            "previous": [float(r.previous.velocity or 0) for r in self.rows],
            "currency": self.currency,
            "names": {"current": _("This period"), "previous": _("Previous period")},
        }


def velocity_report(*, user, params=None) -> VelocityReport:
    """Sales velocity per group for the period (default: the last 12 months) and the one before."""
    filterset, group_by = analytics_filter(user=user, params=params, date_field="closed")
    start, end = filterset.date_range()
    if not (start and end):
        from reports.filters import period_range

        start, end = period_range("last_12_months")
    prev_start, prev_end = previous_period(start, end)
    mode = CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(undated(filterset)).order_by()
    key = group_key(group_by)
    cycle = DaysBetween(TruncDate("closed_at"), TruncDate("created_at"))
    aggregates = {}
    for name, (s, e) in {"c": (start, end), "p": (prev_start, prev_end)}.items():
        lo, hi = _day_start(s), _day_start(e + datetime.timedelta(days=1))
        closed = Q(closed_at__gte=lo, closed_at__lt=hi)
        won, lost = closed & Q(status="won"), closed & Q(status="lost")
        priced = won & Q(**{f"{mode.column}__isnull": False})
        aggregates.update(
            {
                f"{name}_open": Count(
                    "pk", filter=Q(created_at__lt=hi) & (Q(closed_at__isnull=True) | Q(closed_at__gte=hi))
                ),
                f"{name}_won": Count("pk", filter=won),
                f"{name}_lost": Count("pk", filter=lost),
                f"{name}_amount": Sum(mode.column, filter=priced),
                f"{name}_priced": Count("pk", filter=priced),
                f"{name}_cycle": Sum(cycle, filter=won),
            }
        )
    grouped = list(deals.annotate(k=key).values("k").annotate(**aggregates).order_by())
    labels = group_labels(group_by, {g["k"] for g in grouped})

    def figures(g, name):
        return VelocityFigures(
            open=g[f"{name}_open"],
            won=g[f"{name}_won"],
            lost=g[f"{name}_lost"],
            won_amount=Decimal(g[f"{name}_amount"] or 0),
            won_priced=g[f"{name}_priced"],
            cycle_days=g[f"{name}_cycle"] or 0,
        )

    rows, totals = [], {"c": VelocityFigures(), "p": VelocityFigures()}
    for g in grouped:
        current, previous = figures(g, "c"), figures(g, "p")
        if not (current.open or current.won or current.lost or previous.open or previous.won or previous.lost):
            continue
        text, label, _sort = labels[g["k"]]
        rows.append(VelocityRow(key=text, label=label, current=current, previous=previous))
        for name, fig in (("c", current), ("p", previous)):
            t = totals[name]
            t.open += fig.open
            t.won += fig.won
            t.lost += fig.lost
            t.won_amount += fig.won_amount
            t.won_priced += fig.won_priced
            t.cycle_days += fig.cycle_days
    sort = {labels[g["k"]][0]: labels[g["k"]][2] for g in grouped}
    rows.sort(key=lambda r: sort.get(r.key, (1, "")))
    return VelocityReport(
        rows=rows,
        total=VelocityRow(key=None, label=_("Total"), current=totals["c"], previous=totals["p"]),
        start=start,
        end=end,
        previous_start=prev_start,
        previous_end=prev_end,
        currency=mode.code,
        filter=filterset,
        group_by=group_by,
    )
