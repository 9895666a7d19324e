"""Reads of pipelines, and the one source of per-stage totals.

The board's column headers, the API's ``/pipelines/{id}/summary/`` and anything else that shows
a stage total call :func:`pipeline_summary`, so they cannot disagree.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum

from core.currency import quantize_cents

from .models import Pipeline, Stage


@dataclass
class StageTotals:
    """Totals of the deals of one stage. Amounts are in the base currency; deals whose amount has no
    known exchange rate are counted but their amounts are listed apart, per currency."""

    stage: Stage
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    unconverted: dict[str, Decimal] = field(default_factory=dict)


def pipeline_list():
    return Pipeline.objects.prefetch_related("stages")


def pipeline_summary(*, pipeline: Pipeline, deals) -> list[StageTotals]:
    """Per-stage count, amount and weighted amount (amount × probability) of ``deals``.

    ``deals`` is an Opportunity queryset already narrowed to what the reader may see and asked for
    (``visible_to(user)``, not archived, the board's or the API's filters). Every stage of the
    pipeline is listed, in order, empty ones too. Three queries, whatever the number of deals.
    """
    deals = deals.filter(pipeline=pipeline).order_by()
    weighted = ExpressionWrapper(
        F("amount_base") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    totals = {
        row["stage_id"]: row
        for row in deals.values("stage_id").annotate(
            count=Count("id"), amount=Sum("amount_base"), weighted=Sum(weighted)
        )
    }
    unconverted: dict[int, dict[str, Decimal]] = {}
    for row in deals.filter(amount_base__isnull=True).values("stage_id", "currency").annotate(total=Sum("amount")):
        unconverted.setdefault(row["stage_id"], {})[row["currency"]] = quantize_cents(row["total"] or Decimal(0))

    summary = []
    for stage in pipeline.stages.order_by("order"):
        row = totals.get(stage.pk, {})
        summary.append(
            StageTotals(
                stage=stage,
                count=row.get("count", 0),
                amount=quantize_cents(row.get("amount") or Decimal(0)),
                weighted=quantize_cents((row.get("weighted") or Decimal(0)) / 100),
                unconverted=unconverted.get(stage.pk, {}),
            )
        )
    return summary
