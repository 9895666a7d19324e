import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import IdFilter

from .models import Note


class NoteFilter(django_filters.FilterSet):
    """The API's notes: ``?opportunity=``, ``?contact=`` or ``?organization=`` narrows to one record's feed."""

    opportunity = IdFilter(field_name="opportunity_id", label=_("Opportunity"))
    contact = IdFilter(field_name="contact_id", label=_("Contact"))
    organization = IdFilter(field_name="organization_id", label=_("Organization"))
    pinned = django_filters.BooleanFilter(label=_("Pinned"))

    class Meta:
        model = Note
        fields = []
