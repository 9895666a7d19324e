"""The catalog FilterSet, shared by the HTML list and any API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import StyledFilterSet
from customfields.filters import CustomFieldsFilterMixin

from .models import Product, VatRate


class ProductFilter(CustomFieldsFilterMixin, StyledFilterSet):
    custom_fields_entity = "product"
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Product.Kind.choices, label=_("Kind"))
    vat_rate = django_filters.ChoiceFilter(choices=VatRate.choices, label=_("VAT rate"))
    ordering = django_filters.OrderingFilter(fields=(("name", "name"), ("code", "code"), ("unit_price", "unit_price")))

    class Meta:
        model = Product
        fields = ["q", "kind", "vat_rate"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(category__icontains=value))
