"""One error format for the whole API:

    {"error": {"code": "validation_error", "message": "…", "fields": {"amount": ["…"]}}}

Domain errors from the services become 400 (validation) or 409 (stale version); a database
constraint that slipped through becomes 400, never a 500.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, StaleVersionError
from core.integrity import integrity_error_explained


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The record changed since you read it (If-Match does not match its ETag).")
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state of the record.")
    default_code = "conflict"


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    return None


def _messages(value):
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            out.extend(_messages(item) if isinstance(item, list | tuple | dict) else [str(item)])
        return out
    if isinstance(value, dict):
        return [f"{k}: {' '.join(_messages(v))}" for k, v in value.items()]
    return [str(value)]


def _django_validation_fields(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def api_exception_handler(exc, context):
    if isinstance(exc, StaleVersionError):
        exc = Conflict(str(exc.message))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_fields(exc))
    elif isinstance(exc, DomainError):
        exc = exceptions.ValidationError({"non_field_errors": [str(exc.message)]})
    elif isinstance(exc, IntegrityError):
        field, message = integrity_error_explained(exc)
        exc = exceptions.ValidationError({field or "non_field_errors": [message]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):  # a service's refusal (accounts.permissions.ChangeNotAllowed)
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    fields = None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(detail) if isinstance(detail, dict) else {"non_field_errors": _messages(detail)}
        message = _("Some fields are not valid: %(fields)s.") % {"fields": ", ".join(fields)}
    else:
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else " ".join(_messages(detail))
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    body["error"].update(getattr(exc, "extra", None) or {})  # e.g. a 409's duplicate candidates
    response.data = body
    return response


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx response."""

    error = ErrorDetailSerializer()


def error_response(status_code: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=status_code)
