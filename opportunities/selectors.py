"""Every read of opportunities that a page, the API, an export or the board needs."""

import calendar
import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from .deal_filters import DealFilters
from .models import Opportunity
from .querysets import planned_activities
from .rollups import stage_totals_count, stage_totals_for

LIST_RELATED = ("organization", "contact", "owner", "stage", "pipeline", "lost_reason")


def opportunity_list(*, user, include_archived: bool = False, with_can_edit: bool = False, with_markers: bool = False):
    """Deals ``user`` may see, with what a list row shows joined in (no per-row queries).

    ``with_can_edit``: each deal carries ``can_edit``, whether ``user`` may change it (the rule of
    ``editable_by``, computed in the same query), for lists whose cells are edited in place."""
    qs = Opportunity.objects.visible_to(user)
    if not include_archived:
        qs = qs.active()
    if with_can_edit:
        editable = Opportunity.objects.editable_by(user).filter(pk=OuterRef("pk"))
        qs = qs.annotate(can_edit=Exists(editable))
    if with_markers:  # the "no planned activity" marker, in the same query
        qs = qs.with_next_activity_flag()
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


TIMELINE_KINDS = ("stage", "field", "activity", "note", "document", "quote", "email")
# What a timeline entry shows of an e-mail: never its bodies (a long message would be read for a line).
TIMELINE_EMAIL_FIELDS = (
    "id",
    "subject",
    "from_name",
    "from_address",
    "outgoing",
    "send_status",
    "sent_at",
    "sent_by",
    "opportunity",
)
TIMELINE_PAGE_SIZE = 20


def _currency_in_effect(currency_changes, current: str):
    """``(before, after)`` of a moment: the deal's currency just before and just after it, read from
    its currency changes (oldest first) and its ``current`` currency."""

    def at(moment, *, inclusive):
        earlier = [c for c in currency_changes if (c.changed_at <= moment if inclusive else c.changed_at < moment)]
        if earlier:
            return earlier[-1].new_value or current
        later = [c for c in currency_changes if c not in earlier]
        return (later[0].old_value or current) if later else current

    return lambda moment: (at(moment, inclusive=False), at(moment, inclusive=True))


def opportunity_timeline(
    *, opportunity: Opportunity, kinds=TIMELINE_KINDS, page: int = 1, per_page: int = TIMELINE_PAGE_SIZE, history=None
) -> dict:
    """Everything that happened to the deal, newest first: stage moves, field changes (an amount with
    the currency it was in at the time), activities planned and done, notes, documents, quotes and
    e-mails (received or sent, not the dismissed ones; whoever sees the deal sees its e-mails, the
    rule of ``mail.querysets``).

    ``kinds`` narrows it to some of :data:`TIMELINE_KINDS`; ``page`` (1-based) of ``per_page``
    entries; ``history``, the stage history already read for the page (:func:`opportunity_history`),
    saves reading it again. One query per kind whatever the length of the history: each source gives at most the
    entries up to the end of the page, newest first, and the merge keeps the page.
    Returns ``{"entries", "page", "has_next", "kinds"}``."""
    kinds = tuple(k for k in TIMELINE_KINDS if k in set(kinds)) or TIMELINE_KINDS
    page = max(1, page)
    upto = page * per_page + 1  # one more than the page's end says whether there is a next page
    entries = []
    if "stage" in kinds:
        if history is not None:
            moves = list(reversed(history))[:upto]
        else:
            moves = opportunity.stage_changes.select_related("from_stage", "to_stage", "changed_by", "lost_reason")
            moves = moves.order_by("-changed_at", "-id")[:upto]
        entries += [
            {"at": h.changed_at, "kind": "stage", "by": h.changed_by, "stage_change": h, "id": h.pk} for h in moves
        ]
    if "field" in kinds:
        changes = list(opportunity.field_changes.select_related("changed_by").order_by("-changed_at", "-id")[:upto])
        currencies = None
        for c in changes:
            entry = {"at": c.changed_at, "kind": "field", "by": c.changed_by, "change": c, "id": c.pk}
            if c.field == "amount":
                if currencies is None:
                    history = list(opportunity.field_changes.filter(field="currency").order_by("changed_at", "id"))
                    currencies = _currency_in_effect(history, opportunity.currency)
                entry["old_currency"], entry["new_currency"] = currencies(c.changed_at)
            entries.append(entry)
    if "activity" in kinds:
        activities = opportunity.activities.select_related("owner")
        entries += [
            {"at": a.created_at, "kind": "activity", "by": a.owner, "activity": a, "done": False, "id": a.pk}
            for a in activities.order_by("-created_at", "-id")[:upto]
        ]
        entries += [
            {"at": a.done_at, "kind": "activity", "by": a.owner, "activity": a, "done": True, "id": a.pk}
            for a in activities.filter(done=True, done_at__isnull=False).order_by("-done_at", "-id")[:upto]
        ]
    if "note" in kinds:  # the notes feed (notes app), by reverse relation: no import of it here
        entries += [
            {"at": n.created_at, "kind": "note", "by": n.author, "note": n, "id": n.pk}
            for n in opportunity.feed_notes.select_related("author").order_by("-created_at", "-id")[:upto]
        ]
    if "document" in kinds:
        entries += [
            {"at": d.created_at, "kind": "document", "by": d.uploaded_by, "document": d, "id": d.pk}
            for d in opportunity.documents.select_related("uploaded_by").order_by("-created_at", "-id")[:upto]
        ]
    if "quote" in kinds:
        entries += [
            {"at": q.created_at, "kind": "quote", "by": q.owner, "quote": q, "id": q.pk}
            for q in opportunity.quotes.select_related("owner").order_by("-created_at", "-id")[:upto]
        ]
    if "email" in kinds:  # the mail app's e-mails, by reverse relation: no import of it here
        emails = (
            opportunity.emails.exclude(link_status="dismissed").select_related("sent_by").only(*TIMELINE_EMAIL_FIELDS)
        )
        entries += [
            {"at": e.sent_at, "kind": "email", "by": e.sent_by or e.from_name or e.from_address, "email": e, "id": e.pk}
            for e in emails.order_by("-sent_at", "-id")[:upto]
        ]
    entries.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
    start = (page - 1) * per_page
    return {
        "entries": entries[start : start + per_page],
        "page": page,
        "has_next": len(entries) > start + per_page,
        "kinds": kinds,
    }


def opportunity_detail_related(*, opportunity: Opportunity) -> dict:
    """The related records the detail page lists, each fetched in one query."""
    return {
        "lines": opportunity.lines.select_related("product"),
        "quotes": opportunity.quotes.select_related("owner").order_by("-created_at"),
        "documents": opportunity.documents.select_related("uploaded_by"),
        "activities": opportunity.activities.select_related("owner").order_by("done", "due_at", "id"),
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
        rotten=Count("id", filter=Q(rots_at__lte=timezone.now())),
        no_next_activity=Count("id", filter=~Exists(planned_activities())),
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
