"""Reusable filters for opportunities, starting with the visibility policy."""

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.permissions import (
    is_anonymous,
    owned_by_editable_q,
    owned_by_visible_q,
    sees_everything,
)


class OpportunityQuerySet(models.QuerySet):
    """Deals. Totals and counts that can be read from the totals the database keeps are decided by
    the selectors from the reader's filters (``opportunities.deal_filters``), not here."""

    def active(self):
        """Not archived: what boards, lists and reports count."""
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def open(self):
        return self.filter(status="open")

    def won(self):
        return self.filter(status="won")

    def lost(self):
        return self.filter(status="lost")

    def closed(self):
        return self.filter(status__in=["won", "lost"])

    def rotten(self, now=None):
        """Open deals left alone longer than their stage allows (``rots_at`` past, an indexed range)."""
        return self.filter(status="open", rots_at__lte=now or timezone.now())

    def without_next_activity(self):
        """Open deals with no planned (not done) activity."""
        return self.filter(status="open").exclude(Exists(planned_activities()))

    def with_next_activity_flag(self):
        """Each deal carries ``has_next_activity``: whether an activity of it is still to do."""
        return self.annotate(has_next_activity=Exists(planned_activities()))

    def visible_to(self, user):
        """The deals ``user`` may open (accounts/permissions.py states the rule)."""
        if is_anonymous(user):
            return self.none()
        return self._chain() if sees_everything(user) else self.filter(owned_by_visible_q(user))

    def editable_by(self, user):
        """The deals ``user`` may change, move or archive."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))


def planned_activities():
    """The not-done activities of the outer deal (a subquery for Exists)."""
    activity = apps.get_model("activities", "Activity")
    return activity.objects.filter(opportunity=OuterRef("pk"), done=False)
