"""Reusable filters for activities, starting with the visibility policy (by owner)."""

from django.db import models
from django.utils import timezone

from accounts.permissions import is_anonymous, owned_by_editable_q, owned_by_visible_q, sees_everything


class ActivityQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done=False)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def visible_to(self, user):
        """Activities owned by the user or a member of their teams."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_visible_q(user))

    def editable_by(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))
