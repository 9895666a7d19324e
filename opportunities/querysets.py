"""Reusable filters for opportunities, starting with the visibility policy."""

from django.db import models

from accounts.permissions import (
    is_anonymous,
    owned_by_editable_q,
    owned_by_visible_q,
    sees_everything,
)


class OpportunityQuerySet(models.QuerySet):
    """Deals. ``visible_to(user)`` remembers its reader, so that totals and counts of "what this
    reader may see" can be read from the totals the database keeps (``opportunities.rollups``)
    instead of adding up every deal; any other filter makes them add up the deals as before."""

    _visible_to = None

    def _clone(self):
        clone = super()._clone()
        clone._visible_to = self._visible_to
        return clone

    def count(self):
        """The number of deals; from the per-stage totals when they hold exactly these deals (the
        deal list's and the API's page count over a million deals: one sum of a few hundred rows)."""
        if self._result_cache is None:
            from .rollups import stage_totals_count, stage_totals_matching

            totals = stage_totals_matching(self)
            if totals is not None:
                return stage_totals_count(totals)
        return super().count()

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
        deals = self._chain() if sees_everything(user) else self.filter(owned_by_visible_q(user))
        deals._visible_to = user
        return deals

    def editable_by(self, user):
        """The deals ``user`` may change, move or archive."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))
