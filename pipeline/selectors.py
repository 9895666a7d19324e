"""Reads of pipelines, and the one source of per-stage totals.

The board's column headers, the API's ``/pipelines/{id}/summary/`` and anything else that shows
a stage total call :func:`pipeline_summary`, so they cannot disagree.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum

from core.currency import quantize_cents
from opportunities.deal_filters import DealFilters, deals_matching
from opportunities.rollups import stage_totals_for

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


def pipeline_summary(*, user, pipeline: Pipeline, filters: DealFilters) -> list[StageTotals]:
    """Per-stage count, amount and weighted amount (amount × probability) of the active deals of
    ``pipeline`` that ``user`` may see and ``filters`` select. Every stage of the pipeline is
    listed, in order, empty ones too.

    When the filters are keys only (pipeline, stage, owner, status, currency, "mine"/"my team":
    the board without a search or date filter, the API's summary, the forecast) the sums are read
    from the per-stage totals the database keeps (``opportunities.rollups``): a few hundred rows,
    two queries, whatever the number of deals. Otherwise the deals are added up: three queries.
    """
    kept = stage_totals_for(user=user, filters=filters)
    if kept is not None:  # the kept totals answer: the filters are keys only
        totals, unconverted = _summary_from_totals(kept.filter(pipeline=pipeline))
    else:  # any other filter: add up the deals themselves
        totals, unconverted = _summary_from_deals(
            deals_matching(user=user, filters=filters).filter(pipeline=pipeline).order_by()
        )

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


def _summary_from_deals(deals) -> tuple[dict, dict]:
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
    return totals, unconverted


def _summary_from_totals(kept) -> tuple[dict, dict]:
    """The same two dicts as :func:`_summary_from_deals`, from StageTotal rows (one query)."""
    totals: dict[int, dict] = {}
    unconverted: dict[int, dict[str, Decimal]] = {}
    rows = kept.values("stage_id", "currency").annotate(
        n=Sum("deals"),
        amount=Sum("amount_base"),
        weighted=Sum("weighted"),
        unconverted_n=Sum("unconverted_deals"),
        unconverted_amount=Sum("unconverted_amount"),
    )
    for row in rows:
        if not row["n"]:
            continue  # a group whose deals all left it
        stage = totals.setdefault(row["stage_id"], {"count": 0, "amount": Decimal(0), "weighted": Decimal(0)})
        stage["count"] += row["n"]
        stage["amount"] += row["amount"] or Decimal(0)
        stage["weighted"] += row["weighted"] or Decimal(0)
        if row["unconverted_n"]:
            per_currency = unconverted.setdefault(row["stage_id"], {})
            per_currency[row["currency"]] = quantize_cents(row["unconverted_amount"] or Decimal(0))
    return totals, unconverted


@dataclass
class BoardColumn:
    """One column of the board: its stage, the totals of *all* its matching deals, and the first cards."""

    totals: StageTotals
    cards: list
    has_more: bool

    @property
    def stage(self) -> Stage:
        return self.totals.stage


# What a card shows of its relations. Its stage is the column's, already at hand: not joined again.
BOARD_CARD_RELATED = ("organization", "contact", "owner")


def _card_rows(deals):
    return deals.select_related(None).select_related(*BOARD_CARD_RELATED).with_next_activity_flag()


def _with_can_edit(cards, user):
    """Annotate ``can_edit``: whether ``user`` may move the card, by the one ``editable_by`` rule."""
    from django.db.models import Exists, OuterRef, Value

    from accounts.permissions import sees_everything
    from opportunities.models import Opportunity

    if user is None or sees_everything(user):
        return cards.annotate(can_edit=Value(True))
    return cards.annotate(can_edit=Exists(Opportunity.objects.editable_by(user).filter(pk=OuterRef("pk"))))


def board_cards(*, deals, stages, limit: int, user=None) -> dict[int, list]:
    """The first ``limit`` + 1 cards of every stage of ``stages`` in one query.

    One ``LIMIT`` per column glued with ``UNION ALL``: each part is a short scan of the
    ``opp_board_idx`` index (stage, position, id), so the time does not grow with the number of deals
    (a ``ROW_NUMBER()`` window over the pipeline numbers every deal first: 5x slower at 10,000 open
    deals, and linear). Each part joins only what a card shows: planning seven parts of six joins
    took 27 ms at a million deals, eight times their execution.
    """
    from django.db import connections

    by_id = {stage.pk: stage for stage in stages}
    cards: dict[int, list] = {stage_id: [] for stage_id in by_id}
    if not by_id:
        return cards
    deals = _card_rows(_with_can_edit(deals, user))
    if connections[deals.db].features.supports_slicing_ordering_in_compound:
        parts = [deals.filter(stage_id=stage_id).order_by("position", "id")[: limit + 1] for stage_id in by_id]
        rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    else:  # SQLite (laptops, the quick test run): a window numbers each column's rows.
        from django.db.models import Window
        from django.db.models.functions import RowNumber

        rows = deals.filter(stage_id__in=list(by_id)).annotate(
            column_rank=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("position"), F("id")])
        )
        rows = rows.filter(column_rank__lte=limit + 1)
    for card in rows:
        card.stage = by_id[card.stage_id]
        cards[card.stage_id].append(card)
    for column in cards.values():
        column.sort(key=lambda card: (card.position, card.pk))
    return cards


def board_column_cards(*, deals, stage: Stage, offset: int, limit: int, user=None) -> tuple[list, bool]:
    """The next cards of one column (the board's "more" button). Returns (cards, has_more)."""
    rows = list(
        _card_rows(_with_can_edit(deals, user))
        .filter(stage=stage)
        .order_by("position", "id")[offset : offset + limit + 1]
    )
    for card in rows:
        card.stage = stage
    return rows[:limit], len(rows) > limit


def board_get(*, user, pipeline: Pipeline, filters: DealFilters, limit: int) -> list[BoardColumn]:
    """The board of ``pipeline``: the deals ``user`` may see that ``filters`` select. The column
    totals come from :func:`pipeline_summary`, the same numbers as the API."""
    summary = pipeline_summary(user=user, pipeline=pipeline, filters=filters)
    cards = board_cards(
        deals=deals_matching(user=user, filters=filters).filter(pipeline=pipeline),
        stages=[t.stage for t in summary],
        limit=limit,
        user=user,
    )
    return [
        BoardColumn(totals=totals, cards=cards[totals.stage.pk][:limit], has_more=len(cards[totals.stage.pk]) > limit)
        for totals in summary
    ]
