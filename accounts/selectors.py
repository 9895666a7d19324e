"""Reads of people and teams that pages and the API need."""

import datetime

from django.db.models import Q

from activities.selectors import activity_overdue_by_owner
from opportunities.selectors import opportunity_closing_in_month, opportunity_home_summary, opportunity_open_by_owner

from .models import User
from .permissions import assignable_owners

LOOKUP_LIMIT = 20


def owner_search(*, user, text: str = "", limit: int = LOOKUP_LIMIT) -> tuple[list, int]:
    """The users ``user`` may make the owner of a record (:func:`assignable_owners`) whose name,
    username or e-mail contain every word of ``text``: the first ``limit`` by name and how many match."""
    qs = assignable_owners(user)
    for word in text.split()[:5]:
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return list(qs.order_by("first_name", "last_name", "id")[:limit]), qs.count()


def team_home(*, user, today: datetime.date) -> dict:
    """A manager's home: their team's open pipeline rep by rep (with each rep's overdue activities),
    the team's totals and its deals closing this month; everything ``user`` sees, counted over
    every row. Five queries whatever the team's size."""
    overdue_activities = activity_overdue_by_owner(user=user)
    by_owner = opportunity_open_by_owner(user=user, today=today)
    for row in by_owner:
        row["overdue_activities"] = overdue_activities.pop(row["owner_id"], 0)
    if overdue_activities:  # people with overdue activities and no open deal are on the list too
        for person in User.objects.filter(pk__in=overdue_activities).order_by("username"):
            by_owner.append(
                {
                    "owner_id": person.pk,
                    "name": person.get_full_name() or person.username,
                    "count": 0,
                    "amount": None,
                    "overdue": 0,
                    "overdue_activities": overdue_activities[person.pk],
                }
            )
    return {
        "team_summary": opportunity_home_summary(user=user, today=today),
        "team_by_owner": by_owner,
        "team_overdue_activities": sum(row["overdue_activities"] for row in by_owner),
        "team_closing": opportunity_closing_in_month(user=user, today=today),
    }
