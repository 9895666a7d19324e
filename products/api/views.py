"""`/api/v1/products/`: the catalog. Everyone reads it; managers and admins change it."""

from rest_framework import serializers

from core.api.base import ServiceViewSet, service_viewset_schema
from core.api.filters import StableOrderingFilterBackend
from customfields.api.fields import CustomFieldsField

from .. import selectors, services
from ..filters import ProductFilter
from ..models import Product
from ..querysets import can_manage_catalog


class ProductSerializer(serializers.ModelSerializer):
    custom_fields = CustomFieldsField()

    class Meta:
        model = Product
        fields = ["id", *services.FIELDS, "custom_fields", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []


@service_viewset_schema(ProductSerializer)
class ProductViewSet(ServiceViewSet):
    serializer_class = ProductSerializer
    filter_backends = [StableOrderingFilterBackend]
    filterset_class = ProductFilter
    default_ordering = ["name"]
    queryset = Product.objects.none()
    writable = (*services.FIELDS, "custom_fields")

    def select_list(self):
        return selectors.product_list(user=self.request.user)

    def select_one(self, pk):
        return selectors.product_get(user=self.request.user, pk=pk)

    def can_change(self, obj):
        return can_manage_catalog(self.request.user)

    def can_create(self):
        return can_manage_catalog(self.request.user)

    def perform_create(self, data):
        return services.product_create(user=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.product_update(product=obj, user=self.request.user, data=data)

    def perform_archive(self, obj):
        return services.product_update(product=obj, user=self.request.user, data={"active": False})
