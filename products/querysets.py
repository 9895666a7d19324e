"""Reusable filters for the catalog. Every signed-in user sees it; managers and admins change it."""

from django.db import models

from accounts.permissions import is_anonymous, sees_everything


def can_manage_catalog(user) -> bool:
    return not is_anonymous(user) and (sees_everything(user) or user.is_manager)


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        return self.none() if is_anonymous(user) else self

    def editable_by(self, user):
        return self if can_manage_catalog(user) else self.none()
