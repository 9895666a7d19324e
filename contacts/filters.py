"""FilterSets shared by the HTML lists and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import IdFilter, StyledFilterSet
from core.widgets import autocomplete_by_id, use_autocomplete
from customfields.filters import CustomFieldsFilterMixin

from .models import Contact, Organization


class _OwnerAutocomplete:
    """The filter form's owner (and organization) searched as one types (core.widgets), set on this
    form's own fields, never on the shared filters."""

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            user = getattr(self.request, "user", None)
            if user is not None and user.is_authenticated:
                use_autocomplete(form.fields["owner"], "accounts:owner_lookup")
                if "organization" in form.fields:
                    autocomplete_by_id(
                        form.fields["organization"],
                        "contacts:organization_lookup",
                        label_queryset=Organization.objects.visible_to(user),
                    )
        return self._form


class OrganizationFilter(CustomFieldsFilterMixin, _OwnerAutocomplete, StyledFilterSet):
    custom_fields_entity = "organization"
    q = django_filters.CharFilter(method="search", label=_("Search"))
    sector = django_filters.CharFilter(lookup_expr="iexact", label=_("Sector"))
    city = django_filters.CharFilter(lookup_expr="icontains", label=_("City"))
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.filter(is_active=True))
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", label=_("Tag"))

    class Meta:
        model = Organization
        fields = ["q", "sector", "city", "owner", "tag"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(vat_number__icontains=value) | Q(city__icontains=value))


class ContactFilter(CustomFieldsFilterMixin, _OwnerAutocomplete, StyledFilterSet):
    custom_fields_entity = "contact"
    q = django_filters.CharFilter(method="search", label=_("Search"))
    organization = IdFilter(field_name="organization_id", label=_("Organization"))
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.filter(is_active=True))
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", label=_("Tag"))

    class Meta:
        model = Contact
        fields = ["q", "organization", "owner", "tag"]

    def search(self, queryset, name, value):
        terms = value.split()
        for term in terms:
            queryset = queryset.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(organization__name__icontains=term)
            )
        return queryset
