"""Reusable filters for organizations and contacts, starting with the visibility policy."""

from django.db import models
from django.db.models import Exists, OuterRef

from accounts.permissions import (
    is_anonymous,
    owned_by_editable_q,
    owned_by_visible_q,
    sees_everything,
)


def _visible_opportunities(user):
    from opportunities.models import Opportunity

    return Opportunity.objects.filter(owned_by_visible_q(user))


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def visible_to(self, user):
        """Owned by the user's teams, or doing business with them (one of their deals)."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        deals = _visible_opportunities(user).filter(organization_id=OuterRef("pk"))
        return self.filter(owned_by_visible_q(user) | models.Q(Exists(deals)))

    def editable_by(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))


class ContactQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def visible_to(self, user):
        """Owned by the user's teams, or a party to one of their deals (directly or via the company)."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        deals = _visible_opportunities(user)
        direct = deals.filter(contact_id=OuterRef("pk"))
        via_org = deals.filter(organization_id=OuterRef("organization_id"))
        return self.filter(owned_by_visible_q(user) | models.Q(Exists(direct)) | models.Q(Exists(via_org)))

    def editable_by(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owned_by_editable_q(user))
