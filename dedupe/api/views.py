"""`POST /api/v1/merges/`: merge organizations or contacts (the same service as the merge page)
and `GET /api/v1/duplicates/?kind=`: the likely groups the duplicates page lists."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.base import ERRORS, WRITE_ERRORS

from .. import selectors, services


class MergeRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["organization", "contact"])
    survivor = serializers.IntegerField(help_text="The id of the record that stays.")
    merged = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, help_text="Ids of the records merged into it."
    )
    values = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Field name → id of the record whose value the survivor keeps (its own otherwise).",
    )


class MergeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The merge's id.")
    kind = serializers.CharField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.ListField(child=serializers.IntegerField(), source="merged_ids")
    moved = serializers.DictField(child=serializers.IntegerField(), help_text="Related rows moved, per kind.")
    merged_at = serializers.DateTimeField()


class DuplicateGroupSerializer(serializers.Serializer):
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    score = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class MergeView(APIView):
    @extend_schema(request=MergeRequestSerializer, responses={201: MergeResultSerializer, **WRITE_ERRORS})
    def post(self, request):
        data = MergeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.records_merge(
            user=request.user,
            kind=data.validated_data["kind"],
            survivor_id=data.validated_data["survivor"],
            merged_ids=data.validated_data["merged"],
            values=data.validated_data.get("values") or {},
        )
        return Response(MergeResultSerializer(event).data, status=201)


class DuplicateListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("kind", enum=["organization", "contact"], required=True)],
        responses={200: DuplicateGroupSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        kind = request.query_params.get("kind")
        if kind not in ("organization", "contact"):
            raise ValidationError({"kind": ["Choose organization or contact."]})
        groups = selectors.duplicate_groups(user=request.user, kind=kind)
        return Response(DuplicateGroupSerializer(groups, many=True).data)
