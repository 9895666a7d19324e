"""The API's side of duplicate detection: 409 with the candidates, unless the client says it means
a new record with ``?allow_duplicate=true``."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status

from core.api.errors import ErrorDetailSerializer

from ..detection import candidates_for

ALLOW_DUPLICATE = OpenApiParameter(
    "allow_duplicate",
    type=bool,
    location=OpenApiParameter.QUERY,
    required=False,
    description=(
        "Create the record even when it is possibly the same as one that exists (same VAT number or fiscal "
        "code, same normalised name; for contacts same e-mail, phone, or name in the same organization). "
        "Without it such a request is answered 409 `possible_duplicate` with the candidates."
    ),
)


class CandidateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["organization", "contact"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.ChoiceField(choices=["tax_id", "name", "email", "phone", "name_in_organization"])
    reason_label = serializers.CharField()
    score = serializers.IntegerField(help_text="0-100: how sure the match is.")
    url = serializers.CharField()


class DuplicateErrorDetailSerializer(ErrorDetailSerializer):
    candidates = CandidateSerializer(many=True)


class DuplicateErrorSerializer(serializers.Serializer):
    """409 body of a create that is possibly a duplicate: the usual error plus ``candidates``."""

    error = DuplicateErrorDetailSerializer()


DUPLICATE_RESPONSE = OpenApiResponse(
    DuplicateErrorSerializer,
    description="`possible_duplicate`: the record possibly exists (see `candidates`); "
    "retry with `?allow_duplicate=true` to create it anyway. Also `conflict` for a stale version.",
)


class PossibleDuplicate(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This record is possibly the same as one that exists.")
    default_code = "possible_duplicate"

    def __init__(self, candidates, detail=None):
        super().__init__(detail)
        # core.api.errors.api_exception_handler adds ``extra`` to the error body.
        self.extra = {"candidates": [c.as_json() for c in candidates]}


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def refuse_duplicates(request, kind: str, data: dict) -> None:
    """Raise PossibleDuplicate (409) when ``data`` describes a record the caller possibly has."""
    if _truthy(request.query_params.get("allow_duplicate", "")):
        return
    found = candidates_for(kind, user=request.user, data=data)
    if found:
        names = ", ".join(str(c.record) for c in found[:5])
        raise PossibleDuplicate(
            found,
            _("Possibly the same as %(names)s. Send allow_duplicate=true to create a new record anyway.")
            % {"names": names},
        )
