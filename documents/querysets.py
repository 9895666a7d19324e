"""Reusable filters for documents: a document is visible exactly when its parent record is."""

from django.db import models
from django.db.models import Q

from accounts.permissions import is_anonymous, sees_everything


def _parents_q(user, method: str) -> Q:
    from contacts.models import Contact, Organization
    from opportunities.models import Opportunity

    return (
        Q(opportunity__in=getattr(Opportunity.objects, method)(user).values("pk"))
        | Q(organization__in=getattr(Organization.objects, method)(user).values("pk"))
        | Q(contact__in=getattr(Contact.objects, method)(user).values("pk"))
    )


class DocumentQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(_parents_q(user, "visible_to"))

    def editable_by(self, user):
        """Deleting a document: its uploader, or whoever may change its parent."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(Q(uploaded_by=user) & _parents_q(user, "visible_to") | _parents_q(user, "editable_by"))
