"""Every read of activities that a page, an export or the calendar needs."""

from django.db.models import Count, DateTimeField, Value
from django.utils import timezone

from .models import Activity

LIST_RELATED = ("owner", "opportunity", "contact", "organization")


def activity_list(*, user, include_archived: bool = False):
    """Activities ``user`` may see, with what a row shows joined in. Activities are never archived
    (they are done); ``include_archived`` exists for the shared list helper and lists nothing."""
    return (
        Activity.objects.visible_to(user)
        .select_related(*LIST_RELATED)
        .annotate(archived_at=Value(None, output_field=DateTimeField()))
    )


def activity_get(*, user, pk) -> Activity:
    return Activity.objects.visible_to(user).select_related(*LIST_RELATED).get(pk=pk)


def activity_my_open(*, user, now=None) -> dict:
    """The user's own open activities split into overdue, today-and-later and undated, oldest first."""
    now = now or timezone.now()
    rows = list(
        Activity.objects.filter(owner=user, done=False)
        .select_related("opportunity", "contact", "organization")
        .order_by("due_at", "id")
    )
    return {
        "overdue": [a for a in rows if a.due_at and a.due_at < now],
        "upcoming": [a for a in rows if a.due_at and a.due_at >= now],
        "undated": [a for a in rows if a.due_at is None],
    }


def activity_overdue_by_owner(*, user, now=None) -> dict[int, int]:
    """How many open activities are overdue, per owner, among those ``user`` sees. One query."""
    now = now or timezone.now()
    rows = (
        Activity.objects.visible_to(user)
        .filter(done=False, due_at__lt=now)
        .values("owner_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["owner_id"]: row["count"] for row in rows}
