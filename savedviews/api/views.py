"""`/api/v1/saved-views/`: the saved views the caller may open (their own, their team's shared ones,
those shared with everyone), read-only. ``url`` opens the view's page; ``query`` is the list's query
string, which the matching API list endpoint accepts too (``/api/v1/opportunities/?<query>``)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ERRORS, CrmViewSet

from .. import selectors
from ..models import ListKey, SavedView


class SavedViewSerializer(serializers.ModelSerializer):
    list = serializers.CharField(source="list_key", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    url = serializers.SerializerMethodField()
    is_default = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = [
            "id",
            "name",
            "list",
            "path",
            "query",
            "columns",
            "sort",
            "page_size",
            "visibility",
            "owner",
            "is_default",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, view) -> str:
        return view.get_absolute_url()

    def get_is_default(self, view) -> bool:
        return view.pk in self.context.get("default_ids", ())


class SavedViewFilter(django_filters.FilterSet):
    list = django_filters.ChoiceFilter(field_name="list_key", choices=ListKey.choices)

    class Meta:
        model = SavedView
        fields = []


class SavedViewViewSet(CrmViewSet):
    serializer_class = SavedViewSerializer
    filterset_class = SavedViewFilter

    def get_queryset(self):
        return selectors.saved_view_list(user=self.request.user).order_by("list_key", "name", "id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["default_ids"] = set(selectors.default_view_ids(user=self.request.user).values())
        return context

    @extend_schema(responses={200: SavedViewSerializer(many=True), **ERRORS})
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: SavedViewSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        try:
            view = selectors.saved_view_get(user=request.user, pk=int(pk))
        except (SavedView.DoesNotExist, ValueError):
            raise NotFound() from None
        return Response(self.get_serializer(view).data)
