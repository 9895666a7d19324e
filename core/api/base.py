"""What every endpoint shares: ETag / If-Match, Idempotency-Key (idempotency.py), and the
schema's error responses."""

import hashlib

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from .errors import ErrorSerializer, PreconditionFailed
from .idempotency import idempotent_response
from .parsers import require_supported_body

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; `fields` names each bad field."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed (e.g. a read-only token writing)."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to you."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests; see Retry-After."),
}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(ErrorSerializer, description="Someone changed the record meanwhile (stale version)."),
    412: OpenApiResponse(ErrorSerializer, description="If-Match does not match the current ETag."),
}
IF_MATCH = OpenApiParameter(
    "If-Match", location=OpenApiParameter.HEADER, required=False, description="The ETag you read."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="A unique key per logical request: a retry returns the first response, creating nothing.",
)


def etag_of(obj) -> str:
    version = getattr(obj, "version", None)
    if version is not None:
        return f'"{obj.pk}-{version}"'
    stamp = getattr(obj, "updated_at", None) or getattr(obj, "created_at", None)
    digest = hashlib.sha256(f"{obj.pk}-{stamp.isoformat() if stamp else ''}".encode()).hexdigest()[:16]
    return f'"{obj.pk}-{digest}"'


class CrmViewSet(viewsets.GenericViewSet):
    """ETag on reads; If-Match checked before writes; Idempotency-Key honoured on creates.

    A write (POST, PUT, PATCH, DELETE) runs in one transaction with the reading back and rendering
    of its answer: a request that fails (an unexpected error, a 5xx) or is refused (a 4xx) leaves
    nothing behind, so a client retrying it cannot create a second record."""

    lookup_value_regex = "[0-9]+"  # /opportunities/true/ is a 404, not an error

    def dispatch(self, request, *args, **kwargs):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require_supported_body(request, self.get_parsers())

    def check_if_match(self, obj) -> None:
        wanted = self.request.headers.get("If-Match")
        if wanted and wanted.strip() != "*" and etag_of(obj) not in [t.strip() for t in wanted.split(",")]:
            raise PreconditionFailed()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        obj = getattr(self, "_etag_object", None)
        if obj is not None and 200 <= response.status_code < 300:
            response["ETag"] = etag_of(obj)
        return response

    def with_etag(self, obj):
        self._etag_object = obj
        return obj

    def idempotent(self, request, make_response):
        """Run ``make_response`` once per (user, Idempotency-Key): a retry gets the stored response."""
        return idempotent_response(request, make_response)


def created(data) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


__all__ = ["CrmViewSet", "ERRORS", "WRITE_ERRORS", "IF_MATCH", "IDEMPOTENCY_KEY", "extend_schema", "created"]


class ServiceViewSet(CrmViewSet):
    """CRUD over a model whose reads go through selectors and writes through services.

    Subclasses set ``serializer_class`` and implement ``select_list()``, ``select_one(pk)``,
    ``perform_create(data)``, ``perform_update(obj, data)`` and ``perform_archive(obj)``;
    ``can_change(obj)`` decides 403 for records the caller may see but not change, and
    ``can_create()`` (true by default) whether they may create any.
    """

    writable: tuple[str, ...] = ()

    def get_queryset(self):
        return self.select_list()

    def get_object(self):
        try:
            return self.with_etag(self.select_one(int(self.kwargs["pk"])))
        except (ValueError, self.serializer_class.Meta.model.DoesNotExist):
            raise NotFound() from None

    def _check_change(self, obj):
        if not self.can_change(obj):
            raise PermissionDenied("You may see this record but not change it.")
        self.check_if_match(obj)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def can_create(self) -> bool:
        """Whether the caller may create records here at all (403 otherwise)."""
        return True

    def create(self, request):
        if not self.can_create():
            raise PermissionDenied("You may not create records here.")

        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            obj = self.perform_create({k: v for k, v in serializer.validated_data.items() if k in self.writable})
            obj = self.with_etag(self.select_one(obj.pk))
            return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, make)

    def _update(self, request, partial):
        obj = self.get_object()
        self._check_change(obj)
        serializer = self.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(obj, {k: v for k, v in serializer.validated_data.items() if k in self.writable})
        fresh = self.with_etag(self.select_one(obj.pk))
        return Response(self.get_serializer(fresh).data)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def destroy(self, request, pk=None):
        obj = self.get_object()
        self._check_change(obj)
        self.perform_archive(obj)
        self._etag_object = None
        return Response(status=status.HTTP_204_NO_CONTENT)


def service_viewset_schema(serializer):
    """The OpenAPI description of a ServiceViewSet's actions: bodies, headers and error responses."""
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **ERRORS}),
        retrieve=extend_schema(responses={200: serializer, **ERRORS}),
        create=extend_schema(parameters=[IDEMPOTENCY_KEY], responses={201: serializer, **WRITE_ERRORS}),
        update=extend_schema(parameters=[IF_MATCH], responses={200: serializer, **WRITE_ERRORS}),
        partial_update=extend_schema(parameters=[IF_MATCH], responses={200: serializer, **WRITE_ERRORS}),
        destroy=extend_schema(parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS}),
    )
