"""Every read of opportunities that a page, the API, an export or the board needs."""

import calendar
import datetime

from django.db.models import Count, F, Q, Sum

from .deal_filters import DealFilters
from .models import Opportunity
from .rollups import stage_totals_count, stage_totals_for

LIST_RELATED = ("organization", "contact", "owner", "stage", "pipeline", "lost_reason")


def opportunity_list(*, user, include_archived: bool = False):
    """Deals ``user`` may see, with what a list row shows joined in (no per-row queries)."""
    qs = Opportunity.objects.visible_to(user)
    if not include_archived:
        qs = qs.active()
    return qs.select_related(*LIST_RELATED)


def opportunity_count_from_totals(*, user, filterset) -> int | None:
    """How many active deals ``user`` may see match ``filterset`` (validated), read from the kept
    per-stage totals when its filters are keys only (the list's page count over a million deals:
    one sum of a few hundred rows); None otherwise, and the list counts its rows."""

    totals = stage_totals_for(user=user, filters=DealFilters.from_filterset(filterset))
    return stage_totals_count(totals) if totals is not None else None


def opportunity_values(deals, fields):
    """``deals`` (already narrowed, ordered and sliced) as plain dicts of ``fields``
    (``QuerySet.values()`` names, relations joined in the same query): for lists that build their
    rows without model instances."""
    return deals.values(*fields)


def opportunity_get(*, user, pk) -> Opportunity:
    """One deal ``user`` may see, archived included; raises Opportunity.DoesNotExist otherwise."""
    return Opportunity.objects.visible_to(user).select_related(*LIST_RELATED, "created_by").get(pk=pk)


def opportunity_history(*, opportunity: Opportunity):
    """The stages the deal went through, oldest first, with who moved it."""
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by", "lost_reason").order_by(
        "changed_at", "id"
    )


def opportunity_timeline(*, opportunity: Opportunity, history=None) -> list[dict]:
    """Stage moves and field changes merged, newest first: who changed what, and when (two queries)."""
    history = list(history if history is not None else opportunity_history(opportunity=opportunity))
    entries = [{"at": h.changed_at, "kind": "stage", "by": h.changed_by, "stage_change": h} for h in history]
    entries += [
        {"at": c.changed_at, "kind": "field", "by": c.changed_by, "change": c}
        for c in opportunity.field_changes.select_related("changed_by")
    ]
    return sorted(entries, key=lambda e: e["at"], reverse=True)


def opportunity_detail_related(*, opportunity: Opportunity) -> dict:
    """The related records the detail page lists, each fetched in one query."""
    return {
        "lines": opportunity.lines.select_related("product"),
        "quotes": opportunity.quotes.select_related("owner").order_by("-created_at"),
        "documents": opportunity.documents.select_related("uploaded_by"),
        "activities": opportunity.activities.select_related("owner").order_by("done", "due_at", "id"),
        "history": (history := list(opportunity_history(opportunity=opportunity))),
        "timeline": opportunity_timeline(opportunity=opportunity, history=history),
    }


def opportunity_home_summary(*, user, owner=None, today: datetime.date) -> dict:
    """The open deals ``user`` sees (only ``owner``'s when given), counted and summed over every row
    in one query: how many, their amount in the base currency, how many close this month and how
    many are past their expected close date."""
    month_start, month_end = _month_bounds(today)
    deals = Opportunity.objects.visible_to(user).active().open()
    if owner is not None:
        deals = deals.filter(owner=owner)
    return deals.aggregate(
        count=Count("id"),
        amount=Sum("amount_base"),
        closing=Count("id", filter=Q(expected_close_date__range=(month_start, month_end))),
        overdue=Count("id", filter=Q(expected_close_date__lt=today)),
    )


def opportunity_open_by_owner(*, user, today: datetime.date) -> list[dict]:
    """The open pipeline ``user`` sees, per owner (a manager's team, rep by rep), over every row:
    ``owner_id``, ``name``, ``count``, ``amount`` (base currency), ``overdue`` (past their expected
    close date). Largest pipeline first. One query."""
    rows = (
        Opportunity.objects.visible_to(user)
        .active()
        .open()
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            count=Count("id"),
            amount=Sum("amount_base"),
            overdue=Count("id", filter=Q(expected_close_date__lt=today)),
        )
        .order_by(F("amount").desc(nulls_last=True), "owner__username")
    )
    return [
        {
            "owner_id": row["owner_id"],
            "name": f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"],
            "count": row["count"],
            "amount": row["amount"],
            "overdue": row["overdue"],
        }
        for row in rows
    ]


def opportunity_closing_in_month(*, user, today: datetime.date, owner=None, limit: int = 10):
    """Open deals ``user`` sees (only ``owner``'s when given) expected to close in ``today``'s month,
    soonest first, at most ``limit``."""
    month_start, month_end = _month_bounds(today)
    deals = opportunity_list(user=user).open().filter(expected_close_date__range=(month_start, month_end))
    if owner is not None:
        deals = deals.filter(owner=owner)
    return deals.order_by("expected_close_date", "pk")[:limit]


def _month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = today.replace(day=1)
    return start, start.replace(day=calendar.monthrange(today.year, today.month)[1])
