"""The opportunity FilterSet, shared by the HTML list, the board and the API."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.permissions import owned_by_visible_q
from contacts.models import Contact, Organization
from core.filters import IdFilter, PlausibleIsoDateTimeFilter, StyledFilterSet
from core.widgets import autocomplete_by_id, use_autocomplete
from customfields.filters import CustomFieldsFilterMixin
from pipeline.models import Pipeline, Stage

from .deal_filters import search_deals
from .models import LeadSource, Opportunity, OpportunityLine, OpportunityType, Status


class _ScopeField(django_filters.fields.ChoiceField):
    """``scope=all`` (older links, API clients) still means everyone, which the empty choice says."""

    def valid_value(self, value):
        return value == "all" or super().valid_value(value)


class ScopeFilter(django_filters.ChoiceFilter):
    field_class = _ScopeField


class OpportunityFilter(CustomFieldsFilterMixin, StyledFilterSet):
    """Every filter of the deal list, the board and the API. ``scope`` needs ``request``.
    ``?cf_<key>=…`` filters on custom field values and ``?ordering=cf_<key>`` sorts by one
    (customfields.filters)."""

    custom_fields_entity = "deal"

    q = django_filters.CharFilter(method="search", label=_("Search"))
    scope = ScopeFilter(
        choices=[("mine", _("Mine")), ("team", _("My team"))],
        method="filter_scope",
        label=_("Whose"),
        empty_label=_("Everyone"),
    )
    pipeline = django_filters.ModelChoiceFilter(queryset=Pipeline.objects.all(), label=_("Pipeline"))
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.select_related("pipeline"), label=_("Stage"))
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("Status"))
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.filter(is_active=True), label=_("Owner"))
    type = django_filters.ChoiceFilter(choices=OpportunityType.choices, label=_("Type"))
    lead_source = django_filters.ChoiceFilter(choices=LeadSource.choices, label=_("Lead source"))
    # By id (links from an organization's or contact's page, or the autocomplete of the list's form:
    # a <select> of every company would not scale).
    organization = IdFilter(field_name="organization_id", label=_("Organization"))
    contact = IdFilter(field_name="contact_id", label=_("Contact"))
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount to"))
    close_after = django_filters.DateFilter(
        field_name="expected_close_date",
        lookup_expr="gte",
        label=_("Expected close from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    close_before = django_filters.DateFilter(
        field_name="expected_close_date",
        lookup_expr="lte",
        label=_("Expected close to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    closed_after = django_filters.DateFilter(
        field_name="closed_at",
        lookup_expr="date__gte",
        label=_("Closed from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    closed_before = django_filters.DateFilter(
        field_name="closed_at",
        lookup_expr="date__lte",
        label=_("Closed to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    rotten = django_filters.BooleanFilter(
        method="filter_rotten", label=_("Rotten only"), widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    no_next_activity = django_filters.BooleanFilter(
        method="filter_no_next_activity",
        label=_("No planned activity"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    updated_since = PlausibleIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Changed since"), widget=forms.HiddenInput
    )
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", label=_("Tag"))

    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("amount", "amount"),
            ("expected_close_date", "expected_close_date"),
            ("probability", "probability"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
        ),
        label=_("Order by"),
    )

    class Meta:
        model = Opportunity
        fields = []

    @property
    def form(self):
        """The filter form, its organization, contact and owner searched as one types
        (core.widgets). The widgets are set on this form's own fields, never on the shared filters."""
        if not hasattr(self, "_form"):
            form = super().form
            user = getattr(self.request, "user", None)
            fields = form.fields
            if user is None or not user.is_authenticated:
                return self._form
            if "owner" in fields:
                use_autocomplete(fields["owner"], "accounts:owner_lookup")
            if "organization" in fields:
                autocomplete_by_id(
                    fields["organization"],
                    "contacts:organization_lookup",
                    label_queryset=Organization.objects.visible_to(user),
                )
            if "contact" in fields:
                autocomplete_by_id(
                    fields["contact"],
                    "contacts:contact_lookup",
                    label_queryset=Contact.objects.visible_to(user),
                    depends_on="organization",
                )
        return self._form

    def filter_scope(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated or value == "all":
            return queryset
        if value == "mine":
            return queryset.filter(owner=user)
        return queryset.filter(owned_by_visible_q(user))

    def filter_rotten(self, queryset, name, value):
        return queryset.rotten() if value else queryset

    def filter_no_next_activity(self, queryset, name, value):
        return queryset.without_next_activity() if value else queryset

    def search(self, queryset, name, value):
        return search_deals(queryset, value)


class OpportunityLineFilter(django_filters.FilterSet):
    """The API's product lines: ``?opportunity=<id>`` narrows to one deal."""

    opportunity = IdFilter(field_name="opportunity_id")

    class Meta:
        model = OpportunityLine
        fields = []
