"""The won/lost report: deals closed in the period, grouped, with win rates and the sales cycle."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, F, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team
from accounts.permissions import is_anonymous, owned_by_visible_q, sees_everything
from core.currency import quantize_cents
from core.dates import month_label, quarter_label
from opportunities.models import LeadSource, OpportunityLine, OpportunityType
from pipeline.models import LostReason

from ..filters import ReportFilter
from .common import (
    TENTH,
    all_of,
    is_source_group,
    local_date,
    ratio,
    report_filter,
    source_group_key,
    source_group_label,
    source_group_names,
    whole_months,
)
from .money import ZERO, CurrencyMode, Money

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
        return ratio(self.won_count, self.closed_count)

    @property
    def win_rate_by_value(self) -> Decimal | None:
        """Won amount / (won + lost amount), over the amounts in the report's currency."""
        return ratio(self.won.amount, self.won.amount + self.lost.amount)

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
        return str(dict(self.filter.filters["group_by"].extra["choices"]).get(self.group_by, ""))

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
    if is_source_group(group_by):
        return source_group_key(group_by)
    if group_by == "product":
        return _main_product("product_id")
    if group_by == "month":
        return TruncMonth("closed_at")
    if group_by == "quarter":
        return TruncQuarter("closed_at")
    raise ValidationError({"group_by": _("Choose how to group the report.")})


def _group_names(group_by: str, keys: set) -> dict:
    """Names of the owners, teams, lost reasons or products keyed by id: one query, or none."""
    if is_source_group(group_by):
        return source_group_names(group_by, keys)
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
    if is_source_group(group_by):
        return source_group_label(group_by, key, names)
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
    day = local_date(key)
    # The key stays ISO (the API's and the export's sorting); the label is in the reader's language.
    if group_by == "month":
        text, label = f"{day.year}-{day.month:02d}", month_label(day)
    else:
        text, label = f"{day.year}-Q{(day.month - 1) // 3 + 1}", quarter_label(day)
    return text, label, (0, text)


def _won_lost_from_deals(deals, *, group_by: str, mode: CurrencyMode) -> list[dict]:
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
            won_converted=Count("id", filter=all_of(WON, mode.converted)),
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
    if not whole_months(filterset):
        return None
    start, end = filterset.date_range()
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


def _won_lost_from_months(months, *, group_by: str, mode: CurrencyMode) -> list[dict]:
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
    mode = CurrencyMode(filterset.chosen_currency)
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
