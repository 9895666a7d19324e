"""`/api/v1/bulk-jobs/`: change the owner, the stage or a field of many deals (or organizations and
contacts: owner, archive) in one request.

``POST /bulk-jobs/`` with the records (``ids``, or ``filter``: the query string of the list's
filters, every matching record the caller may see) and the action's arguments. Every record goes
through its own service, checked against what the caller may change; the answer counts what
changed, what was already so and what was refused, with the reasons. Up to
``CRM_BULK_INLINE_LIMIT`` records run in the request (the answer is the finished job); more run in
the worker (``status`` ``queued``): read ``GET /bulk-jobs/{id}/`` until it is ``done``. With an
``Idempotency-Key`` a retried request returns the first answer and creates no second job.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ERRORS, IDEMPOTENCY_KEY, WRITE_ERRORS, CrmViewSet
from core.api.parsers import JSONParser

from .. import selectors, services
from ..models import BulkAction, BulkJob, BulkKind


class BulkJobSerializer(serializers.ModelSerializer):
    refusals = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="How many records were refused, by reason."
    )

    class Meta:
        model = BulkJob
        fields = [
            "id",
            "kind",
            "action",
            "params",
            "status",
            "total",
            "cursor",
            "changed_count",
            "unchanged_count",
            "refused_count",
            "refusals",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class BulkJobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BulkKind.choices, default=BulkKind.DEAL)
    action = serializers.ChoiceField(choices=BulkAction.choices)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=100_000,
        help_text="The records to change. Leave out to use `filter`.",
    )
    filter = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Every record matching this query string of the list's filters (e.g. `stage=3&owner=7`), "
        "on every page. Used when `ids` is left out; an empty string means every record you may see.",
    )
    owner = serializers.IntegerField(required=False, help_text="action=owner: a user you may assign.")
    stage = serializers.IntegerField(required=False, help_text="action=stage: the stage (same pipeline).")
    lost_reason = serializers.IntegerField(required=False, help_text="action=stage to a lost stage: why, for all.")
    lost_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    field = serializers.ChoiceField(
        choices=services.SETTABLE_FIELDS, required=False, help_text="action=field: the field to set."
    )
    value = serializers.JSONField(required=False, help_text='action=field: its new value (null or "" clears it).')

    def validate(self, attrs):
        if "ids" not in attrs and "filter" not in attrs:
            raise serializers.ValidationError({"ids": "Give `ids`, or `filter` for every matching record."})
        return attrs


class BulkJobViewSet(CrmViewSet):
    parser_classes = [JSONParser]
    serializer_class = BulkJobSerializer
    queryset = BulkJob.objects.none()  # for the schema; get_queryset narrows to the caller's jobs

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BulkJob.objects.none()
        return BulkJob.objects.filter(user=self.request.user).defer("record_ids")

    @extend_schema(responses={200: BulkJobSerializer(many=True), **ERRORS})
    def list(self, request):
        """Your bulk jobs, newest first."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BulkJobSerializer(page, many=True).data)

    @extend_schema(responses={200: BulkJobSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        """One of your jobs: its progress (`cursor` of `total`) and, when `done`, its counts."""
        try:
            job = selectors.bulk_job_get(user=request.user, pk=int(pk))
        except (BulkJob.DoesNotExist, ValueError):
            raise NotFound() from None
        return Response(BulkJobSerializer(job).data)

    @extend_schema(
        request=BulkJobCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: BulkJobSerializer, 202: BulkJobSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        """Run an action over many records: 201 with the finished job, or 202 with a queued one
        (more than `CRM_BULK_INLINE_LIMIT` records) to read again until it is `done`."""

        def make():
            serializer = BulkJobCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            params = {
                name: data[name]
                for name in ("owner", "stage", "lost_reason", "lost_note", "field", "value")
                if name in data
            }
            job = services.bulk_job_create(
                user=request.user,
                kind=data["kind"],
                action=data["action"],
                params=params,
                ids=data.get("ids"),
                query=data.get("filter") if "ids" not in data else None,
            )
            job.refresh_from_db()
            code = status.HTTP_201_CREATED if job.is_finished else status.HTTP_202_ACCEPTED
            return Response(BulkJobSerializer(job).data, status=code)

        return self.idempotent(request, make)
