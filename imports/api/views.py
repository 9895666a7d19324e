"""`/api/v1/imports/`: the import pages' steps for integrators — upload, map, preview, run, result.

1. ``POST /imports/`` (multipart: ``kind``, ``file``, optional ``saved_mapping``) stores the file and
   maps its columns by meaning; the answer lists the file's ``headers`` and the ``fields``.
2. ``PUT /imports/{id}/mapping/`` (JSON) changes the column mapping, defaults and options;
   ``PUT /imports/{id}/values/`` says what the file's stages, statuses and lost reasons mean.
3. ``GET /imports/{id}/preview/``: a dry run — counts, every row's outcome and errors, and the values
   still to map; ``can_run`` says whether the run would be accepted.
4. ``POST /imports/{id}/run/`` queues the run (202), refused (400 naming the fields) while values
   are unmapped or no row can be imported.
5. ``GET /imports/{id}/result/``: progress, counts, deals by status and every rejected row.

A job is seen and changed by its author and by administrators, as on the pages; the rows are
matched only against the records the author may see (``visible_to``) and written through the
services, which check ``editable_by``.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api.base import ERRORS, WRITE_ERRORS, CrmViewSet
from core.api.errors import Conflict
from core.api.parsers import JSONParser

from .. import selectors, services
from ..fields import FRACTION, PERCENT, fields_for
from ..forms import MAX_UPLOAD_BYTES
from ..importers import CREATE_CHOICES
from ..models import ImportJob, ImportKind, ImportMapping
from ..values import SKIP, VALUE_FIELDS


class ImportFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()


class ImportJobSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="original_name", read_only=True)
    columns = serializers.DictField(source="mapping", child=serializers.CharField(), read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "status",
            "columns",
            "defaults",
            "value_mapping",
            "options",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportJobDetailSerializer(ImportJobSerializer):
    headers = serializers.ListField(child=serializers.CharField(), read_only=True)
    fields = ImportFieldSerializer(many=True, read_only=True)

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "headers", "fields"]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(help_text="CSV (comma, semicolon or tab separated) or .xlsx, headers in row 1.")
    saved_mapping = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def validate_file(self, file):
        if file.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB.")
        return file


class OptionsSerializer(serializers.Serializer):
    create = serializers.ChoiceField(
        choices=CREATE_CHOICES,
        required=False,
        help_text="Deals: create the organizations (default), the organizations and the contacts, or nothing.",
    )
    probability_scale = serializers.ChoiceField(
        choices=["", PERCENT, FRACTION], required=False, help_text="Empty: detected from the file."
    )


class MappingSerializer(serializers.Serializer):
    columns = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="{field: header of the file}"
    )
    defaults = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    options = OptionsSerializer(required=False)
    save_as = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ValuesSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        help_text=(
            f"{{field: {{value of the file: target}}}} for fields {', '.join(VALUE_FIELDS)}; a target is a "
            f'pipeline, stage or lost reason id, a status (open, won, lost), "{SKIP}" to leave the rows out, '
            'or "" to forget a choice.'
        ),
    )
    save_as = serializers.CharField(required=False, allow_blank=True, max_length=100)


class RowErrorSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column of the file (or the field's label).")
    message = serializers.CharField()


class RowOutcomeSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line in the file; the header is line 1.")
    action = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    record = serializers.CharField()
    status = serializers.CharField(help_text="A deal's status after the row: open, won or lost.")
    notes = serializers.ListField(child=serializers.CharField())
    errors = RowErrorSerializer(many=True)


class FileValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    target = serializers.CharField(allow_null=True, help_text='The id or status it means, "__skip__", or null.')
    label = serializers.CharField(allow_null=True)
    rows = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    can_run = serializers.BooleanField()
    checked = serializers.IntegerField()
    total = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    statuses = serializers.DictField(child=serializers.IntegerField())
    probability_scale = serializers.CharField(allow_null=True)
    values = serializers.DictField(child=FileValueSerializer(many=True))
    unknown = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    rows = RowOutcomeSerializer(many=True)


class ReportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class ResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    progress = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    statuses = serializers.DictField(child=serializers.IntegerField())
    rejected = ReportRowSerializer(many=True)
    error = serializers.CharField()


class ImportMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportMapping
        fields = ["id", "kind", "name", "columns", "value_mapping", "options", "updated_at"]
        read_only_fields = fields


def _target(target):
    if target is None:
        return None, None
    if target == SKIP:
        return SKIP, None
    if hasattr(target, "pk"):
        label = getattr(target, "display_name", None) or str(target)
        if hasattr(target, "pipeline"):
            label = f"{target.pipeline.display_name} › {label}"
        return str(target.pk), label
    return str(target), str(target)


def _outcome(o) -> dict:
    return {
        "line": o.line,
        "action": o.action,
        "record": o.record,
        "status": o.status,
        "notes": [str(n) for n in o.notes],
        "errors": [{"column": c or "", "message": str(m)} for c, m in o.errors],
    }


class ImportJobViewSet(mixins.ListModelMixin, CrmViewSet):
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()

    def get_parsers(self):
        # The upload is a file; every other step speaks JSON. (The action is not set yet when DRF
        # asks for the parsers of a request: the method tells.)
        method = (getattr(self.request, "method", "") or "").lower()
        name = getattr(self, "action", None) or getattr(self, "action_map", {}).get(method)
        return [MultiPartParser()] if name == "create" else [JSONParser()]

    def get_queryset(self):
        return selectors.import_job_list(user=self.request.user).order_by("-created_at", "-id")

    def get_object(self):
        try:
            return self.with_etag(selectors.import_job_get(user=self.request.user, pk=self.kwargs["pk"]))
        except (ImportJob.DoesNotExist, ValueError, OverflowError):
            raise NotFound() from None

    def _detail(self, job, code=status.HTTP_200_OK):
        table = services.import_job_table(job)
        job.headers = table.headers
        job.fields = [
            {"name": spec.name, "label": str(spec.label), "required": spec.required} for spec in fields_for(job.kind)
        ]
        return Response(ImportJobDetailSerializer(job).data, status=code)

    def _uploaded(self, job) -> ImportJob:
        if job.status != ImportJob.Status.UPLOADED:
            raise Conflict(_("This import has already been started: upload the file again to change it."))
        return job

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses={201: ImportJobDetailSerializer, **WRITE_ERRORS}
    )
    def create(self, request):
        """Upload a file: its columns are mapped by meaning (or by your saved mapping)."""
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.import_job_create(
            user=request.user, kind=data["kind"], file=data["file"], saved_mapping=data.get("saved_mapping")
        )
        return self._detail(job, status.HTTP_201_CREATED)

    @extend_schema(responses={200: ImportJobDetailSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return self._detail(self.get_object())

    @extend_schema(request=MappingSerializer, responses={200: ImportJobDetailSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["put"])
    def mapping(self, request, pk=None):
        """Set which column holds each field, default values and options; optionally save the
        mapping by name (``save_as``)."""
        job = self._uploaded(self.get_object())
        serializer = MappingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.import_job_set_mapping(
            job=job,
            mapping=data["columns"],
            defaults=data.get("defaults"),
            options=data.get("options", job.options),
            save_as=data.get("save_as", ""),
        )
        return self._detail(job)

    @extend_schema(request=ValuesSerializer, responses={200: ImportJobDetailSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["put"])
    def values(self, request, pk=None):
        """Say what values of the file mean (stages, statuses, lost reasons, pipelines), or skip them."""
        job = self._uploaded(self.get_object())
        serializer = ValuesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.import_job_set_values(
            job=job, values=serializer.validated_data["values"], save_as=serializer.validated_data.get("save_as", "")
        )
        return self._detail(job)

    @extend_schema(responses={200: PreviewSerializer, 409: OpenApiResponse(description="Already started."), **ERRORS})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """A dry run of the file's first 1000 rows: nothing is saved."""
        job = self._uploaded(self.get_object())
        self._etag_object = None
        preview = services.import_preview(job=job)
        result = preview.result
        body = {
            "can_run": preview.can_run,
            "checked": len(result.outcomes),
            "total": job.total_rows,
            "counts": dict(result.counts),
            "statuses": dict(result.statuses),
            "probability_scale": preview.options.get("probability_scale") if job.mapping.get("probability") else None,
            "values": {
                field: [
                    dict(zip(("target", "label"), _target(target), strict=True), value=value, rows=rows)
                    for value, target, rows in entries
                ]
                for field, entries in preview.values.items()
            },
            "unknown": preview.unknown,
            "rows": [_outcome(o) for o in result.outcomes],
        }
        return Response(PreviewSerializer(body).data)

    @extend_schema(request=None, responses={202: ImportJobSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Queue the run. Refused while values are unmapped or when no row can be imported."""
        job = self._uploaded(self.get_object())
        job = services.import_job_start(job=job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: ResultSerializer, **ERRORS})
    @action(detail=True, methods=["get"])
    def result(self, request, pk=None):
        """Progress, then the outcome: counts, deals by status, every rejected row with all its errors."""
        job = self.get_object()
        self._etag_object = None
        body = {
            "status": job.status,
            "progress": job.progress,
            "counts": {
                "created": job.created_count,
                "updated": job.updated_count,
                "unchanged": job.unchanged_count,
                "rejected": job.rejected_count,
            },
            "statuses": job.report.get("statuses", {}),
            "rejected": job.report.get("rejected", []),
            "error": job.error,
        }
        return Response(ResultSerializer(body).data)


class ImportMappingViewSet(mixins.ListModelMixin, CrmViewSet):
    """The column and value mappings you saved, by name, to reuse with ``saved_mapping``."""

    serializer_class = ImportMappingSerializer
    queryset = ImportMapping.objects.none()

    def get_queryset(self):
        return selectors.import_mapping_list(user=self.request.user).order_by("name", "id")
