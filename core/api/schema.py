"""The OpenAPI schema says what every endpoint can answer, not only what it answers when all goes well.

Every operation declares the documented error (``ErrorSerializer``) for each status the API's one
error handler (``core.api.errors``) or its JSON 404/500 views (``core.api.handlers``) can give,
and the response headers integrators rely on: ``ETag`` on a record, ``Idempotent-Replayed`` on a
retried POST, ``Retry-After`` on 429. A client generated from the schema then parses every answer
without hand edits.
"""

import django_filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from core.filters import ID_SCHEMA, IdFilter

from .base import CrmViewSet
from .errors import ErrorSerializer


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


EVERY_OPERATION = {
    "400": _error("Bad input; `fields` names each bad field or query parameter."),
    "401": _error("Not authenticated."),
    "403": _error("Not allowed (e.g. a read-only token writing, or a record you may see but not change)."),
    "404": _error("Not found, or not visible to you."),
    "405": _error("This method is not allowed here."),
    "429": _error("Too many requests; wait the seconds in `Retry-After`."),
    "500": _error("A server error (a bug): the same JSON shape, never a page."),
}
WITH_BODY = {"415": _error("The body is not JSON (`Content-Type: application/json`).")}
WRITES = {
    "409": _error("Someone changed the record meanwhile (stale version), or an Idempotency-Key reused elsewhere."),
    "412": _error("If-Match does not match the current ETag."),
}
IDEMPOTENT = {"422": _error("This Idempotency-Key was already used for a different request.")}

ETAG = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "The record's version: send it back in `If-Match` on a write.",
    }
}
REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present on a retry with the same `Idempotency-Key`: the stored first answer.",
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before the next request.",
    }
}


class CrmAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the error responses and headers every endpoint shares."""

    def _header_names(self) -> set[str]:
        return {getattr(p, "name", None) for p in self.get_override_parameters()}

    def _has_request_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _get_parameters(self):
        # A record's id in the path is a positive 64-bit integer, whatever regex the route uses
        # (``[0-9]+`` would make it a string with a pattern, and a generated client's ``id: str``).
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["name"] in ("id", "pk"):
                parameter["schema"] = dict(ID_SCHEMA)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        headers = self._header_names()
        wanted = dict(EVERY_OPERATION)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            wanted.update(WRITES)
        if self._has_request_body():
            wanted.update(WITH_BODY)
        if "Idempotency-Key" in headers:
            wanted.update(IDEMPOTENT)
        for code, response in wanted.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)

        records = isinstance(self.view, CrmViewSet) and not self._is_list_view()
        for code, response in responses.items():
            if code == "429":
                response.setdefault("headers", {}).update(RETRY_AFTER)
            elif code.startswith("2") and code != "204" and records and "content" in response:
                response.setdefault("headers", {}).update(ETAG)
            if code in ("200", "201") and "Idempotency-Key" in headers:
                response.setdefault("headers", {}).update(REPLAYED)
        return responses


def filterset_parameters(filterset_class, *, exclude=()) -> list[OpenApiParameter]:
    """The query parameters of a django-filter FilterSet, for an endpoint that applies one by hand
    (not through a filter backend the schema generator sees)."""
    parameters = []
    for name, filter_ in filterset_class.base_filters.items():
        if name in exclude or isinstance(filter_, django_filters.OrderingFilter):
            continue
        enum = None
        if isinstance(filter_, IdFilter | django_filters.ModelChoiceFilter):
            schema = ID_SCHEMA
        elif isinstance(filter_, django_filters.ChoiceFilter):
            choices = filter_.extra.get("choices", [])
            enum = [value for value, _label in (choices() if callable(choices) else choices)]
            schema = OpenApiTypes.STR
        elif isinstance(filter_, django_filters.DateFilter):
            schema = OpenApiTypes.DATE
        elif isinstance(filter_, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
            schema = OpenApiTypes.DATETIME
        elif isinstance(filter_, django_filters.NumberFilter):
            schema = OpenApiTypes.NUMBER
        elif isinstance(filter_, django_filters.BooleanFilter):
            schema = OpenApiTypes.BOOL
        else:
            schema = OpenApiTypes.STR
        label = filter_.label
        parameters.append(
            OpenApiParameter(name, schema, OpenApiParameter.QUERY, enum=enum, description=str(label) if label else "")
        )
    return parameters
