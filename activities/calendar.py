"""What the calendar and the iCal feed show: one read path for both.

Entries are the user's activities (by due time), the expected close dates of open deals and the
next-step dates of open deals, each linking to its record.
"""

import datetime
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import owned_by_visible_q
from opportunities.models import Opportunity

from .models import Activity

# A month of a large team can hold thousands of deals: each source is capped so the page stays fast.
MAX_PER_SOURCE = 500


@dataclass(frozen=True)
class Entry:
    uid: str
    kind: str  # activity kind, "close" or "next_step"
    title: str
    day: datetime.date
    start: datetime.datetime | None  # None: an all-day entry
    end: datetime.datetime | None
    url: str
    done: bool = False
    detail: str = ""
    # For calendar applications: a counter that grows with every change of the record, and when it
    # last changed, so a moved event replaces the copy they keep.
    sequence: int = 0
    modified: datetime.datetime | None = None

    @property
    def all_day(self) -> bool:
        return self.start is None

    @property
    def css(self) -> str:
        return {"close": "cal-close", "next_step": "cal-next"}.get(self.kind, "cal-activity")


def _scope(queryset, user, scope: str, field: str = "owner"):
    if scope == "team":
        return queryset.filter(owned_by_visible_q(user, field)) if not user.is_crm_admin else queryset
    return queryset.filter(**{f"{field}_id": user.pk})


class Entries(list):
    """Calendar entries; ``truncated`` says a source had more than ``MAX_PER_SOURCE`` of them."""

    truncated = False


def calendar_entries(*, user, start: datetime.date, end: datetime.date, scope: str = "mine") -> Entries:
    """Entries from ``start`` (included) to ``end`` (excluded), in time order. Three queries."""
    tz = timezone.get_current_timezone()
    start_dt = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    end_dt = datetime.datetime.combine(end, datetime.time.min, tzinfo=tz)
    entries = Entries()

    activities = _scope(Activity.objects.visible_to(user), user, scope).filter(due_at__gte=start_dt, due_at__lt=end_dt)
    for a in activities.select_related("opportunity", "contact", "organization").order_by("due_at", "id")[
        :MAX_PER_SOURCE
    ]:
        local = timezone.localtime(a.due_at)
        entries.append(
            Entry(
                uid=f"activity-{a.pk}",
                kind=a.kind,
                title=a.subject,
                day=local.date(),
                start=a.due_at,
                end=a.end_at if a.duration_minutes else a.due_at + datetime.timedelta(minutes=30),
                url=reverse("activities:edit", args=[a.pk]),
                done=a.done,
                detail=str(a.regarding or ""),
                sequence=a.version,
                modified=a.updated_at,
            )
        )

    deals = _scope(Opportunity.objects.visible_to(user).active().open(), user, scope)
    for opp in (
        deals.filter(expected_close_date__gte=start, expected_close_date__lt=end)
        .select_related("organization", "contact")
        .order_by("expected_close_date", "id")[:MAX_PER_SOURCE]
    ):
        entries.append(
            Entry(
                uid=f"deal-{opp.pk}-close",
                kind="close",
                title=_("Expected close: %(deal)s") % {"deal": opp.name},
                day=opp.expected_close_date,
                start=None,
                end=None,
                url=opp.get_absolute_url(),
                detail=str(opp.customer or ""),
                sequence=opp.version,
                modified=opp.updated_at,
            )
        )
    for opp in (
        deals.filter(next_step_date__gte=start, next_step_date__lt=end)
        .select_related("organization", "contact")
        .order_by("next_step_date", "id")[:MAX_PER_SOURCE]
    ):
        entries.append(
            Entry(
                uid=f"deal-{opp.pk}-next-step",
                kind="next_step",
                title=_("Next step: %(step)s (%(deal)s)") % {"step": opp.next_step or _("follow up"), "deal": opp.name},
                day=opp.next_step_date,
                start=None,
                end=None,
                url=opp.get_absolute_url(),
                detail=str(opp.customer or ""),
                sequence=opp.version,
                modified=opp.updated_at,
            )
        )
    counts = {}
    for entry in entries:
        source = entry.kind if entry.kind in ("close", "next_step") else "activity"
        counts[source] = counts.get(source, 0) + 1
    entries.truncated = any(count >= MAX_PER_SOURCE for count in counts.values())
    entries.sort(key=lambda e: (e.day, e.start is not None, e.start or datetime.datetime.min.replace(tzinfo=tz)))
    return entries


def entries_by_day(entries: list[Entry]) -> dict[datetime.date, list[Entry]]:
    days: dict[datetime.date, list[Entry]] = {}
    for entry in entries:
        days.setdefault(entry.day, []).append(entry)
    return days
