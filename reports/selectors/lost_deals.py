"""The lost deals: why they were lost and from which stage."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _

from core.currency import quantize_cents
from pipeline.models import Stage
from pipeline.stage_names import seeded_display_name

from ..filters import ReportFilter
from .common import ratio, report_filter
from .money import CurrencyMode, Money


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
            "share": None if not whole else str(ratio(self.count, whole)),
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
    mode = CurrencyMode(filterset.chosen_currency)
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
    # Without a chosen pipeline, the deals may come from several: each stage is named with its
    # pipeline and the stages stay grouped by pipeline (the default one first), never interleaved.
    several = len({stage.pipeline_id for stage in stages.values()}) > 1

    def stage_label(row):
        stage = stages.get(row["lost_from_stage_id"])
        if stage is None:
            return _("Unknown")
        if several:
            return f"{stage.pipeline.display_name} › {stage.display_name}"
        return stage.display_name

    by_stage = collect(rows, "lost_from_stage_id", stage_label)

    def funnel_order(group):
        if group.key is None:
            return (True, False, "", 0)
        stage = stages[int(group.key)]
        return (False, not stage.pipeline.is_default, stage.pipeline.name.lower(), stage.order)

    # Keep the funnel's order for stages (a person reads them as the pipeline goes).
    by_stage.sort(key=funnel_order)
    total = LostGroup(key=None, label=_("Total"))
    for group in by_reason:
        total.count += group.count
        total.amount.merge(group.amount)
    return LostReport(currency=mode.code, by_reason=by_reason, by_stage=by_stage, total=total, filter=filterset)
