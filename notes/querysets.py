from django.apps import apps
from django.db import models
from django.db.models import Q

from accounts.permissions import is_anonymous, sees_everything


class NoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The notes of the records ``user`` may see (each record's own ``visible_to``)."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self._chain()
        opportunity = apps.get_model("opportunities", "Opportunity")
        contact = apps.get_model("contacts", "Contact")
        organization = apps.get_model("contacts", "Organization")
        return self.filter(
            Q(opportunity__in=opportunity.objects.visible_to(user).values("pk"))
            | Q(contact__in=contact.objects.visible_to(user).values("pk"))
            | Q(organization__in=organization.objects.visible_to(user).values("pk"))
        )
