import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import IdFilter, StyledFilterSet

from .models import Quote, QuoteLine


class QuoteFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Quote.Status.choices, label=_("Status"))
    year = django_filters.NumberFilter(label=_("Year"))
    opportunity = IdFilter(field_name="opportunity_id", label=_("Deal"), widget=forms.HiddenInput)

    class Meta:
        model = Quote
        fields = ["q", "status", "year"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(organization__name__icontains=value) | Q(opportunity__name__icontains=value)
        )


class QuoteLineFilter(django_filters.FilterSet):
    """The API's quote lines: ``?quote=<id>`` narrows to one quote."""

    quote = IdFilter(field_name="quote_id")

    class Meta:
        model = QuoteLine
        fields = []
