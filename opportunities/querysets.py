"""Reusable filters for opportunities, starting with the visibility policy."""

from django.db import models

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
