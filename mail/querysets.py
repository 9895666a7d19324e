"""Who sees which mailbox and which e-mail.

An e-mail is visible exactly when its deal, one of its contacts or one of its organizations is
visible to the reader (the one rule of accounts/permissions.py): a rep never sees an e-mail linked
only to another team's records."""

from django.db import models
from django.db.models import Exists, OuterRef, Q

from accounts.permissions import is_anonymous, sees_everything


class MailboxQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A user's own mailboxes; shared ones (no owner) and everyone's for admins."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(owner=user)

    def editable_by(self, user):
        return self.visible_to(user)


class EmailMessageQuerySet(models.QuerySet):
    def visible_to(self, user):
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        from contacts.models import Contact, Organization
        from opportunities.models import Opportunity

        through_contacts = self.model.contacts.through.objects.filter(
            emailmessage_id=OuterRef("pk"), contact_id__in=Contact.objects.visible_to(user).values("pk")
        )
        through_orgs = self.model.organizations.through.objects.filter(
            emailmessage_id=OuterRef("pk"), organization_id__in=Organization.objects.visible_to(user).values("pk")
        )
        return self.filter(
            Q(opportunity_id__in=Opportunity.objects.visible_to(user).values("pk"))
            | Q(Exists(through_contacts))
            | Q(Exists(through_orgs))
        )
