"""JSON bodies with the API's error shape for what the standard parser lets through as a 500."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.request import is_form_media_type
from rest_framework.utils.mediatypes import media_type_matches


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested too deeply to parse (``[[[[…`` 100,000 levels
    deep makes Python's decoder raise RecursionError) with a 400 instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from None


def require_supported_body(request, parsers_) -> None:
    """Refuse (415) a write whose body is in a media type no parser of the view reads.

    DRF does so only when it reads the body itself: a form body that a middleware already read
    (``core.middleware.NulByteMiddleware`` looks at form fields) would reach the view as an empty
    body, and a form-encoded create would answer "name is required" instead of "send JSON". An
    empty form (what some clients send with a bare POST) is no body."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    meta = request.META
    if meta.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in meta:
        return
    content_type = request.content_type or ""
    if any(media_type_matches(parser.media_type, content_type) for parser in parsers_):
        return
    django_request = request._request
    if is_form_media_type(content_type) and not (django_request.POST or django_request.FILES):
        return
    raise UnsupportedMediaType(content_type)
