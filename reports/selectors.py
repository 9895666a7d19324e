"""Every figure of the reports, computed in the database: one selector per report feeds its page,
its API endpoint and its export, so they cannot disagree.

Rules shared by every report:

* **Who sees what**: every selector starts from ``Opportunity.objects.visible_to(user).active()``
  (archived deals are not counted), then applies :class:`reports.filters.ReportFilter`.
* **Money**: by default amounts are the deals' ``amount_base`` (converted to
  ``settings.CRM_BASE_CURRENCY`` at the rate of the deal's date); deals with no known rate are
  counted, but their amounts are listed apart per currency (``unconverted``) and never added to the
  converted ones. With ``currency=XYZ`` only the deals in that currency are reported, with their
  own ``amount`` (nothing converted). Sums are exact decimals; rounding happens once, at the end.
* **Queries**: a fixed number per report (aggregations, window functions), whatever the number of
  deals.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team
from accounts.permissions import is_anonymous, owned_by_visible_q, sees_everything
from core.currency import base_currency, quantize_cents
from opportunities.deal_filters import DealFilters
from opportunities.models import LeadSource, Opportunity, OpportunityLine, OpportunityType
from pipeline.models import LostReason, Pipeline, Stage, StageChange
from pipeline.selectors import pipeline_summary
from pipeline.stage_names import seeded_display_name

from .filters import GROUP_BY, ReportFilter
from .models import ForecastSnapshot

ZERO = Decimal("0.00")
RATE = Decimal("0.0001")
TENTH = Decimal("0.1")


def _ratio(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def _q(*conditions):
    """AND of the conditions that are not None, or None (no FILTER clause at all)."""
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def report_filter(*, user, params, date_field: str, with_group_by: bool = False) -> ReportFilter:
    """The bound, validated filter over the deals ``user`` may see; raises ValidationError naming
    the bad fields."""
    deals = Opportunity.objects.visible_to(user).active()
    filterset = ReportFilter(
        params if params is not None else {},
        queryset=deals,
        date_field=date_field,
        with_group_by=with_group_by,
        user=user,
    )
    if not filterset.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in filterset.errors.items()})
    start, end = filterset.date_range()
    if start and end and start > end:
        raise ValidationError({"date_to": [_("The end of the period is before its start.")]})
    return filterset


@dataclass
class Money:
    """An amount in the report's currency plus, apart, what could not be converted (per currency)."""

    amount: Decimal = ZERO
    unconverted: dict[str, Decimal] = field(default_factory=dict)

    def add(self, amount, unconverted_amount=None, currency=None):
        self.amount += amount or ZERO
        if unconverted_amount:
            self.unconverted[currency] = self.unconverted.get(currency, ZERO) + unconverted_amount

    def merge(self, other: "Money"):
        self.add(other.amount)
        for currency, value in other.unconverted.items():
            self.add(None, value, currency)


class _CurrencyMode:
    """Which amount column to add, and which deals count as converted."""

    def __init__(self, currency: str):
        self.currency = currency
        self.code = currency or base_currency()
        self.column = "amount" if currency else "amount_base"
        self.converted = None if currency else Q(amount_base__isnull=False)
        self.unconverted = None if currency else Q(amount_base__isnull=True)

    def narrow(self, deals):
        return deals.filter(currency=self.currency) if self.currency else deals

    def sum(self, condition=None):
        return Sum(self.column, filter=_q(condition, self.converted))

    def raw_sum(self, condition=None):
        """Amounts without a rate, in their own currency (always empty in single-currency mode)."""
        if self.unconverted is None:
            return Value(None, output_field=DecimalField(max_digits=18, decimal_places=2))
        return Sum("amount", filter=_q(condition, self.unconverted))


# --- Won / lost ------------------------------------------------------------------------------------

WON = Q(status="won")
LOST = Q(status="lost")


@dataclass
class WonLostRow:
    key: str | None
    label: str
    won_count: int = 0
    lost_count: int = 0
    won: Money = field(default_factory=Money)
    lost: Money = field(default_factory=Money)
    won_converted_count: int = 0
    won_cycle_days: int = 0

    @property
    def won_amount(self) -> Decimal:
        return quantize_cents(self.won.amount)

    @property
    def lost_amount(self) -> Decimal:
        return quantize_cents(self.lost.amount)

    @property
    def closed_count(self) -> int:
        return self.won_count + self.lost_count

    @property
    def win_rate(self) -> Decimal | None:
        """Won / (won + lost), by count, as a fraction (0.2500 = 25 %)."""
        return _ratio(self.won_count, self.closed_count)

    @property
    def win_rate_by_value(self) -> Decimal | None:
        """Won amount / (won + lost amount), over the amounts in the report's currency."""
        return _ratio(self.won.amount, self.won.amount + self.lost.amount)

    @property
    def avg_won_amount(self) -> Decimal | None:
        if not self.won_converted_count:
            return None
        return quantize_cents(self.won.amount / self.won_converted_count)

    @property
    def avg_cycle_days(self) -> Decimal | None:
        """Average calendar days from creation to close, over the won deals."""
        if not self.won_count:
            return None
        return (Decimal(self.won_cycle_days) / self.won_count).quantize(TENTH, rounding=ROUND_HALF_UP)

    @property
    def unconverted(self) -> list[dict]:
        currencies = sorted(set(self.won.unconverted) | set(self.lost.unconverted))
        return [
            {
                "currency": code,
                "won_amount": quantize_cents(self.won.unconverted.get(code, ZERO)),
                "lost_amount": quantize_cents(self.lost.unconverted.get(code, ZERO)),
            }
            for code in currencies
        ]

    def merge(self, other: "WonLostRow"):
        self.won_count += other.won_count
        self.lost_count += other.lost_count
        self.won.merge(other.won)
        self.lost.merge(other.lost)
        self.won_converted_count += other.won_converted_count
        self.won_cycle_days += other.won_cycle_days

    def as_dict(self) -> dict:
        def text(value):
            return None if value is None else str(value)

        return {
            "key": self.key,
            "label": self.label,
            "won_count": self.won_count,
            "lost_count": self.lost_count,
            "won_amount": text(self.won_amount),
            "lost_amount": text(self.lost_amount),
            "win_rate": text(self.win_rate),
            "win_rate_by_value": text(self.win_rate_by_value),
            "avg_won_amount": text(self.avg_won_amount),
            "avg_cycle_days": text(self.avg_cycle_days),
            "unconverted": [{k: text(v) if k != "currency" else v for k, v in u.items()} for u in self.unconverted],
        }


@dataclass
class WonLostReport:
    group_by: str
    currency: str
    rows: list[WonLostRow]
    total: WonLostRow
    filter: ReportFilter

    @property
    def group_label(self) -> str:
        return str(dict(GROUP_BY)[self.group_by])

    def as_dict(self) -> dict:
        return {
            "group_by": self.group_by,
            "currency": self.currency,
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
        }

    def chart(self) -> dict:
        return {
            "labels": [row.label for row in self.rows],
            "won_amount": [float(row.won_amount) for row in self.rows],
            "lost_amount": [float(row.lost_amount) for row in self.rows],
            "win_rate": [float(row.win_rate * 100) if row.win_rate is not None else None for row in self.rows],
            "currency": self.currency,
            "names": {"won": _("Won"), "lost": _("Lost"), "win_rate": _("Win rate (%)")},
        }


def _main_product(field_name: str):
    """The product of a deal's first line (by position): the deal's product in reports.

    A deal with lines of several products counts once, under its first line's product, with its
    whole amount; a deal without product lines falls under "No product".
    """
    return Subquery(
        OpportunityLine.objects.filter(opportunity=OuterRef("pk"), product__isnull=False)
        .order_by("position", "id")
        .values(field_name)[:1]
    )


def _local_date(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


class DaysBetween(Func):
    """Whole calendar days from one date to another, as an integer (summing integers is several
    times faster than summing intervals over a million rows)."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):
        later, earlier = (compiler.compile(e) for e in self.get_source_expressions())
        if connection.vendor == "postgresql":
            return f"({later[0]} - {earlier[0]})", [*later[1], *earlier[1]]
        return (
            f"CAST(ROUND(julianday({later[0]}) - julianday({earlier[0]})) AS INTEGER)",
            [*later[1], *earlier[1]],
        )


def _group_key(group_by: str):
    """The expression a won/lost group is keyed by (labels are looked up apart, by key)."""
    keys = {
        "owner": F("owner_id"),
        "team": F("owner__team_id"),
        "type": F("type"),
        "lost_reason": F("lost_reason_id"),
        "lead_source": F("lead_source"),
    }
    if group_by in keys:
        return keys[group_by]
    if group_by == "product":
        return _main_product("product_id")
    if group_by == "month":
        return TruncMonth("closed_at")
    if group_by == "quarter":
        return TruncQuarter("closed_at")
    raise ValidationError({"group_by": _("Choose how to group the report.")})


def _group_names(group_by: str, keys: set) -> dict:
    """Names of the owners, teams, lost reasons or products keyed by id: one query, or none."""
    keys = {k for k in keys if k is not None}
    if not keys or group_by not in ("owner", "team", "lost_reason", "product"):
        return {}
    if group_by == "owner":
        return {
            pk: f"{first} {last}".strip() or username
            for pk, first, last, username in get_user_model()
            .objects.filter(pk__in=keys)
            .values_list("pk", "first_name", "last_name", "username")
        }
    if group_by == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "lost_reason":
        return {reason.pk: str(reason) for reason in LostReason.objects.filter(pk__in=keys)}
    from products.models import Product

    return dict(Product.objects.filter(pk__in=keys).values_list("pk", "name"))


def _group_label(group_by: str, key, names: dict) -> tuple[str | None, str, tuple]:
    """(key as text, label a person reads, sort key)."""
    if key is None or key == "":
        empty = {
            "owner": _("No owner"),
            "team": _("No team"),
            "product": _("No product"),
            "type": _("No type"),
            "lost_reason": _("No lost reason (won)"),
            "lead_source": _("No lead source"),
        }.get(group_by, _("No date"))
        return None, empty, (1, "")
    if group_by in ("owner", "team", "lost_reason", "product"):
        name = names.get(key, str(key))
        return str(key), name, (0, name.lower())
    if group_by == "type":
        label = str(dict(OpportunityType.choices).get(key, key))
        return key, label, (0, label.lower())
    if group_by == "lead_source":
        label = str(dict(LeadSource.choices).get(key, key))
        return key, label, (0, label.lower())
    day = _local_date(key)
    if group_by == "month":
        text = f"{day.year}-{day.month:02d}"
    else:
        text = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return text, text, (0, text)


def _won_lost_from_deals(deals, *, group_by: str, mode: _CurrencyMode) -> list[dict]:
    """Per (group, currency): the won/lost counts and sums, added up from the deals themselves."""
    cycle = DaysBetween(TruncDate("closed_at"), TruncDate("created_at"))
    return list(
        deals.annotate(group_key=_group_key(group_by))
        .values("group_key", "currency")
        .annotate(
            won_count=Count("id", filter=WON),
            lost_count=Count("id", filter=LOST),
            won_amount=mode.sum(WON),
            lost_amount=mode.sum(LOST),
            won_raw=mode.raw_sum(WON),
            lost_raw=mode.raw_sum(LOST),
            won_converted=Count("id", filter=_q(WON, mode.converted)),
            won_cycle=Sum(cycle, filter=WON),
        )
    )


# What the monthly totals of closed deals are keyed by: the filters and groupings they can answer.
MONTH_FILTERS = frozenset(
    {"period", "date_from", "date_to", "pipeline", "team", "owner", "type", "lead_source", "group_by", "currency"}
)
MONTH_GROUP_KEYS = {
    "owner": "owner_id",
    "team": "owner__team_id",
    "type": "type",
    "lost_reason": "lost_reason_id",
    "lead_source": "lead_source",
    "month": "month",
    "quarter": "month",
}


def _closed_months(*, user, filterset: ReportFilter):
    """The ClosedMonth rows holding exactly the closed deals ``filterset`` selects, or None.

    They do when the period is made of whole months (every preset is; two dates are when they are a
    month's first and last day) in the time zone the months were counted in, and every filter and
    the grouping are among the columns the rows are keyed by (not a product). Visibility is a set of
    owners, as for the deals.
    """
    from opportunities.models import ClosedMonth
    from opportunities.rollups import closed_months_time_zone, rollups_enabled

    if not rollups_enabled() or is_anonymous(user) or filterset.chosen_group_by not in MONTH_GROUP_KEYS:
        return None
    data = filterset.form.cleaned_data
    if {name for name, value in data.items() if value not in (None, "")} - MONTH_FILTERS:
        return None
    start, end = filterset.date_range()
    if (start and start.day != 1) or (end and (end + datetime.timedelta(days=1)).day != 1):
        return None
    if closed_months_time_zone() != timezone.get_current_timezone_name():
        return None
    months = ClosedMonth.objects.filter(deals__gt=0)
    if not sees_everything(user):
        months = months.filter(owned_by_visible_q(user))
    for name, lookup in (
        ("pipeline", "pipeline"),
        ("team", "owner__team"),
        ("owner", "owner"),
        ("type", "type"),
        ("lead_source", "lead_source"),
        ("currency", "currency"),
    ):
        if data.get(name):
            months = months.filter(**{lookup: data[name]})
    if start:
        months = months.filter(month__gte=start)
    if end:
        months = months.filter(month__lte=end.replace(day=1))
    return months


def _won_lost_from_months(months, *, group_by: str, mode: _CurrencyMode) -> list[dict]:
    """The rows of :func:`_won_lost_from_deals`, from the monthly totals (a few thousand rows
    instead of every closed deal)."""
    amount = "amount" if mode.currency else "amount_base"
    no_amount = Value(None, output_field=DecimalField(max_digits=24, decimal_places=2))
    fetched = list(
        months.annotate(group_key=F(MONTH_GROUP_KEYS[group_by]))
        .values("group_key", "currency")
        .annotate(
            won_count=Sum("deals", filter=WON),
            lost_count=Sum("deals", filter=LOST),
            won_amount=Sum(amount, filter=WON),
            lost_amount=Sum(amount, filter=LOST),
            won_raw=no_amount if mode.currency else Sum("unconverted_amount", filter=WON),
            lost_raw=no_amount if mode.currency else Sum("unconverted_amount", filter=LOST),
            won_converted=Sum("deals" if mode.currency else "converted_deals", filter=WON),
            won_cycle=Sum("cycle_days", filter=WON),
        )
    )
    for row in fetched:
        row["won_count"], row["lost_count"] = row["won_count"] or 0, row["lost_count"] or 0
        row["won_converted"] = row["won_converted"] or 0
        if group_by == "lost_reason" and not row["group_key"]:
            row["group_key"] = None  # 0 in the totals: no lost reason
        elif group_by == "quarter":
            month = row["group_key"]
            row["group_key"] = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    return fetched


def won_lost_report(*, user, params=None) -> WonLostReport:
    """Won and lost deals closed in the period, grouped by ``params['group_by']`` (default owner).

    Per group: won/lost counts and amounts, win rate by count and by value, average won amount and
    average sales cycle (calendar days from the creation date to the close date of won deals),
    plus a total row (the sum of the groups: every deal belongs to exactly one group). Two
    queries (three when grouping by product), whatever the number of deals.

    Over whole months and without a product, the figures are read from the monthly totals the
    database keeps (``opportunities.ClosedMonth``) instead of every closed deal: one more query (the
    time zone they were counted in), the same numbers.
    """
    filterset = report_filter(user=user, params=params, date_field="closed", with_group_by=True)
    group_by = filterset.chosen_group_by
    mode = _CurrencyMode(filterset.chosen_currency)
    months = _closed_months(user=user, filterset=filterset)
    if months is not None:
        fetched = _won_lost_from_months(months, group_by=group_by, mode=mode)
    else:
        fetched = _won_lost_from_deals(mode.narrow(filterset.qs.closed()).order_by(), group_by=group_by, mode=mode)
    names = _group_names(group_by, {row["group_key"] for row in fetched})

    rows: dict = {}
    order: dict = {}
    for raw in fetched:
        key, label, sort_key = _group_label(group_by, raw["group_key"], names)
        part = WonLostRow(
            key=key,
            label=label,
            won_count=raw["won_count"],
            lost_count=raw["lost_count"],
            won_converted_count=raw["won_converted"],
            won_cycle_days=raw["won_cycle"] or 0,
        )
        part.won.add(raw["won_amount"], raw["won_raw"], raw["currency"])
        part.lost.add(raw["lost_amount"], raw["lost_raw"], raw["currency"])
        if key in rows:
            rows[key].merge(part)
        else:
            rows[key] = part
            order[key] = sort_key
    ordered = [rows[k] for k in sorted(rows, key=lambda k: order[k])]
    total = WonLostRow(key=None, label=_("Total"))
    for row in ordered:
        total.merge(row)
    return WonLostReport(group_by=group_by, currency=mode.code, rows=ordered, total=total, filter=filterset)


# --- Funnel ----------------------------------------------------------------------------------------


@dataclass
class FunnelStep:
    stage: Stage
    reached: int = 0
    next_reached: int | None = None
    median_days: Decimal | None = None
    timed_count: int = 0

    @property
    def conversion(self) -> Decimal | None:
        """Share of the deals that reached this stage and went on to reach the next one."""
        if self.next_reached is None:
            return None
        return _ratio(self.next_reached, self.reached)

    @property
    def drop_off(self) -> int | None:
        if self.next_reached is None:
            return None
        return self.reached - self.next_reached

    def as_dict(self) -> dict:
        return {
            "stage": self.stage.pk,
            "label": self.stage.display_name,
            "kind": self.stage.kind,
            "reached": self.reached,
            "conversion": None if self.conversion is None else str(self.conversion),
            "drop_off": self.drop_off,
            "median_days_in_stage": None if self.median_days is None else str(self.median_days),
            "timed_deals": self.timed_count,
        }


@dataclass
class FunnelReport:
    pipeline: Pipeline
    deals: int
    steps: list[FunnelStep]
    filter: ReportFilter

    def as_dict(self) -> dict:
        return {"pipeline": self.pipeline.pk, "deals": self.deals, "steps": [s.as_dict() for s in self.steps]}

    def chart(self) -> dict:
        return {
            "labels": [s.stage.display_name for s in self.steps],
            "reached": [s.reached for s in self.steps],
            "median_days": [float(s.median_days) if s.median_days is not None else None for s in self.steps],
            "names": {"reached": _("Deals reaching the stage"), "median_days": _("Median days in stage")},
        }


_FUNNEL_SQL = """
WITH entries AS (
    SELECT sc.to_stage_id AS stage_id,
           sc.changed_at AS entered_at,
           LEAD(sc.changed_at) OVER w AS left_at,
           ROW_NUMBER() OVER w AS step,
           MAX(CASE WHEN st.pipeline_id = %s AND st.kind <> 'lost' THEN st."order" END)
               OVER (PARTITION BY sc.opportunity_id) AS top
    FROM {history} sc JOIN {stage} st ON st.id = sc.to_stage_id
    WHERE sc.opportunity_id IN ({deals})
    WINDOW w AS (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at, sc.id)
), spans AS (
    SELECT stage_id, {seconds} AS seconds FROM entries WHERE left_at IS NOT NULL
)
SELECT 'reach', top, COUNT(*), NULL FROM entries WHERE step = 1 GROUP BY top
UNION ALL
{median}
"""

# PostgreSQL has an ordered-set aggregate for the median; elsewhere (SQLite) the middle row(s) are
# picked with ROW_NUMBER / COUNT window functions. Both run inside the database.
_MEDIAN_POSTGRESQL = """
SELECT 'median', stage_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
FROM spans GROUP BY stage_id
"""
_MEDIAN_PORTABLE = """
SELECT 'median', stage_id, MAX(n), AVG(seconds) FROM (
    SELECT stage_id, seconds,
           ROW_NUMBER() OVER (PARTITION BY stage_id ORDER BY seconds) AS rn,
           COUNT(*) OVER (PARTITION BY stage_id) AS n
    FROM spans
) ranked
WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY stage_id
"""


def _funnel_figures(deals, pipeline) -> tuple[dict, dict]:
    """One pass over the deals' history: (highest stage order reached → deals, stage → (median
    seconds spent in it, spans)).

    The highest order counts open and won stages of ``pipeline`` (lost stages are not steps). A span
    runs from entering a stage to entering the next one (LEAD over the deal's history); the stage a
    deal is still in has no end yet and is not timed.
    """
    deals_sql, params = deals.order_by().values("pk").query.sql_with_params()
    postgres = connection.vendor == "postgresql"
    seconds = (
        "EXTRACT(EPOCH FROM (left_at - entered_at))"
        if postgres
        else "(julianday(left_at) - julianday(entered_at)) * 86400.0"
    )
    sql = _FUNNEL_SQL.format(
        history=StageChange._meta.db_table,
        stage=Stage._meta.db_table,
        deals=deals_sql,
        seconds=seconds,
        median=_MEDIAN_POSTGRESQL if postgres else _MEDIAN_PORTABLE,
    )
    reach, medians = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [pipeline.pk, *params])
        for kind, key, number, median in cursor.fetchall():
            if kind == "reach":
                reach[key] = number
            else:
                medians[key] = (float(median), int(number))
    return reach, medians


def funnel_report(*, user, params=None) -> FunnelReport:
    """How many deals created in the period reached each stage of a pipeline, the conversion to
    the next stage, the drop-off and the median time spent in each stage.

    A deal *reached* a stage when its history enters that stage or any later open or won stage
    (skipping a stage still passes it); every deal reached the first stage. Lost stages are not
    steps: a lost deal reached the stages up to the one it was lost from. Three queries: the
    default pipeline, its stages, and one pass over the history with window functions.
    """
    filterset = report_filter(user=user, params=params, date_field="created")
    pipeline = filterset.form.cleaned_data.get("pipeline") or Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet.")})
    mode = _CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(filterset.qs.filter(pipeline=pipeline)).order_by()
    stages = [s for s in pipeline.stages.order_by("order") if s.kind != Stage.Kind.LOST]
    by_top, medians = _funnel_figures(deals, pipeline)
    total = sum(by_top.values())
    first_order = stages[0].order if stages else 0

    steps = []
    for stage in stages:
        if stage.order == first_order:
            reached = total
        else:
            reached = sum(n for top, n in by_top.items() if top is not None and top >= stage.order)
        median = medians.get(stage.pk)
        steps.append(
            FunnelStep(
                stage=stage,
                reached=reached,
                median_days=(
                    None
                    if median is None
                    else (Decimal(repr(median[0])) / 86400).quantize(TENTH, rounding=ROUND_HALF_UP)
                ),
                timed_count=median[1] if median else 0,
            )
        )
    for step, following in zip(steps, steps[1:], strict=False):
        step.next_reached = following.reached
    return FunnelReport(pipeline=pipeline, deals=total, steps=steps, filter=filterset)


# --- Forecast --------------------------------------------------------------------------------------


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
        return f"{self.month.year}-{self.month.month:02d}" if self.month else _("No expected date")

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
        return f"{self.month.year}-{self.month.month:02d}"

    def as_dict(self) -> dict:
        return {
            "month": self.label,
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
    mode = _CurrencyMode(filterset.chosen_currency)
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

    pipeline = filterset.form.cleaned_data.get("pipeline") or Pipeline.objects.filter(is_default=True).first()
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
        _local_date(row["m"]): row["total"]
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


# --- Lost deals ------------------------------------------------------------------------------------


@dataclass
class LostGroup:
    key: str | None
    label: str
    count: int = 0
    amount: Money = field(default_factory=Money)

    @property
    def total_amount(self) -> Decimal:
        return quantize_cents(self.amount.amount)

    def as_dict(self, whole: int) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "share": None if not whole else str(_ratio(self.count, whole)),
            "amount": str(self.total_amount),
            "unconverted": {code: str(quantize_cents(v)) for code, v in sorted(self.amount.unconverted.items())},
        }


@dataclass
class LostReport:
    currency: str
    by_reason: list[LostGroup]
    by_stage: list[LostGroup]
    total: LostGroup
    filter: ReportFilter

    def as_dict(self) -> dict:
        n = self.total.count
        return {
            "currency": self.currency,
            "by_reason": [g.as_dict(n) for g in self.by_reason],
            "by_stage": [g.as_dict(n) for g in self.by_stage],
            "total": self.total.as_dict(n),
        }

    def chart(self) -> dict:
        return {
            "reason_labels": [g.label for g in self.by_reason],
            "reason_counts": [g.count for g in self.by_reason],
            "stage_labels": [g.label for g in self.by_stage],
            "stage_counts": [g.count for g in self.by_stage],
            "names": {"lost": _("Lost deals")},
        }


def lost_deals_report(*, user, params=None) -> LostReport:
    """Deals lost in the period by lost reason and by the stage they were lost from (the stage the
    deal left when it last entered a lost stage, kept on the deal as ``lost_from_stage``; "Unknown"
    for deals created already lost). Two queries: one pass over the lost deals for both groupings,
    and the stages' names."""
    filterset = report_filter(user=user, params=params, date_field="closed")
    mode = _CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(filterset.qs.lost()).order_by()

    def collect(rows, key_name, label_of):
        groups: dict = {}
        for row in rows:
            key = row[key_name]
            group = groups.get(key)
            if group is None:
                group = groups[key] = LostGroup(key=None if key is None else str(key), label=label_of(row))
            group.count += row["count"]
            group.amount.add(row["converted_sum"], row["raw_sum"], row["currency"])
        return sorted(groups.values(), key=lambda g: (-g.count, g.label.lower()))

    rows = list(
        deals.values(
            "lost_reason_id", "lost_reason__name", "lost_reason__is_system", "lost_from_stage_id", "currency"
        ).annotate(count=Count("id"), converted_sum=mode.sum(), raw_sum=mode.raw_sum())
    )
    by_reason = collect(
        rows,
        "lost_reason_id",
        lambda row: (
            seeded_display_name(row["lost_reason__name"], is_system=row["lost_reason__is_system"])
            if row["lost_reason_id"]
            else _("No reason")
        ),
    )
    stage_ids = {row["lost_from_stage_id"] for row in rows if row["lost_from_stage_id"]}
    stages = {s.pk: s for s in Stage.objects.filter(pk__in=stage_ids).select_related("pipeline")} if stage_ids else {}
    by_stage = collect(
        rows,
        "lost_from_stage_id",
        lambda row: (
            stages[row["lost_from_stage_id"]].display_name if row["lost_from_stage_id"] in stages else _("Unknown")
        ),
    )
    # Keep the funnel's order for stages (a person reads them as the pipeline goes).
    by_stage.sort(key=lambda g: (g.key is None, stages[int(g.key)].order if g.key else 0))
    total = LostGroup(key=None, label=_("Total"))
    for group in by_reason:
        total.count += group.count
        total.amount.merge(group.amount)
    return LostReport(currency=mode.code, by_reason=by_reason, by_stage=by_stage, total=total, filter=filterset)
