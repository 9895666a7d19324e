"""Reusable filters for quotes, starting with the visibility policy."""

from django.db import models

from accounts.permissions import is_anonymous, owned_by_editable_q, owned_by_visible_q, sees_everything


class QuoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Quotes owned by the user's teams, or made for a deal the user can see."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_visible_q(user) | owned_by_visible_q(user, "opportunity__owner"))

    def editable_by(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))
