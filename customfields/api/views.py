"""`/api/v1/custom-fields/`: the definitions, read-only (administrators change them in the CRM)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ERRORS, CrmViewSet

from ..models import CustomField, Entity
from ..selectors import definition_list


class ChoiceSerializer(serializers.Serializer):
    key = serializers.CharField()
    label_it = serializers.CharField()
    label_en = serializers.CharField()
    removed = serializers.BooleanField(help_text="A removed choice: old values keep it, new ones cannot use it.")


class CustomFieldSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="The label in the request's language.")
    choices = ChoiceSerializer(many=True, read_only=True)
    default = serializers.JSONField(read_only=True, allow_null=True)
    archived = serializers.BooleanField(source="is_archived", read_only=True)

    class Meta:
        model = CustomField
        fields = [
            "id",
            "entity",
            "key",
            "label",
            "label_it",
            "label_en",
            "type",
            "required",
            "default",
            "help_text_it",
            "help_text_en",
            "section",
            "order",
            "on_card",
            "in_list",
            "choices",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomFieldFilter(django_filters.FilterSet):
    entity = django_filters.ChoiceFilter(choices=Entity.choices)

    class Meta:
        model = CustomField
        fields = ["entity"]


class CustomFieldViewSet(mixins.ListModelMixin, CrmViewSet):
    """The custom fields of organizations, contacts, deals and products (archived ones with
    `?include_archived=true`). Values are read and written as `custom_fields` on each record."""

    serializer_class = CustomFieldSerializer
    filterset_class = CustomFieldFilter
    queryset = CustomField.objects.none()
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        archived = self.request.query_params.get("include_archived") in ("true", "1")
        return definition_list(include_archived=archived)

    @extend_schema(responses={200: CustomFieldSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        try:
            definition = definition_list(include_archived=True).get(pk=int(pk))
        except (CustomField.DoesNotExist, ValueError):
            raise NotFound() from None
        return Response(self.get_serializer(definition).data)
