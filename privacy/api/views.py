"""The privacy API, on a contact: ``consents/`` (GET the events, POST a new one), ``export/``
(GET everything about the person, the same zip as the page), ``erase/`` (POST, administrators,
Idempotency-Key honoured) and ``legal-hold/`` (GET, PUT to set with a reason, DELETE to lift)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_edit
from contacts.models import Contact
from core.api.base import ERRORS, IDEMPOTENCY_KEY, WRITE_ERRORS
from core.api.errors import ErrorSerializer
from core.api.idempotency import idempotent_response

from .. import selectors, services
from ..models import Consent, ErasureLog, LegalHold


class ConsentSerializer(serializers.ModelSerializer):
    method = serializers.ChoiceField(choices=Consent.Method.choices, default=Consent.Method.API)

    class Meta:
        model = Consent
        fields = ["id", "purpose", "given", "method", "text", "source", "recorded_at", "recorded_by"]
        read_only_fields = ["id", "recorded_at", "recorded_by"]


class ContactConsentView(APIView):
    def _contact(self, request, pk):
        contact = Contact.objects.visible_to(request.user).filter(pk=pk).first()
        if contact is None:
            raise NotFound()
        return contact

    @extend_schema(responses={200: ConsentSerializer(many=True), **ERRORS})
    def get(self, request, pk):
        contact = self._contact(request, pk)
        return Response(ConsentSerializer(selectors.consent_history(contact=contact), many=True).data)

    @extend_schema(request=ConsentSerializer, responses={201: ConsentSerializer, **WRITE_ERRORS})
    def post(self, request, pk):
        contact = self._contact(request, pk)
        if not can_edit(request.user, contact):
            raise PermissionDenied("You may see this contact but not change it.")
        data = ConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_record(contact=contact, user=request.user, **data.validated_data)
        return Response(ConsentSerializer(consent).data, status=201)


def _visible_contact(request, pk) -> Contact:
    contact = Contact.objects.visible_to(request.user).filter(pk=pk).select_related("organization").first()
    if contact is None:
        raise NotFound()
    return contact


class ContactExportView(APIView):
    @extend_schema(
        summary="Everything about the person (access and portability)",
        description="One zip: `contact.json`/`.csv`, a JSON and a CSV file per kind of related record "
        "(deals, their history, quotes, activities, notes, e-mails and attachments, documents with their "
        "files, web-form submissions, consents…) and `manifest.json` counting the rows. The same archive "
        "as the contact page's export, for anyone who may see the contact.",
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request, pk):
        contact = _visible_contact(request, pk)
        data, _counts = services.contact_export(user=request.user, contact=contact)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-export.zip"'
        return response


class UnderLegalHold(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This person is under legal hold: their data cannot be erased until it is lifted."
    default_code = "legal_hold"


class ErasureSerializer(serializers.ModelSerializer):
    contact = serializers.IntegerField(source="contact_id_erased", help_text="The erased contact's id.")
    replaced = serializers.DictField(
        child=serializers.IntegerField(), help_text="Values replaced, per table column (never the data itself)."
    )
    files = serializers.IntegerField(help_text="Stored files rewritten without the person's data.")

    class Meta:
        model = ErasureLog
        fields = ["id", "contact", "erased_by", "erased_at", "replaced", "files"]


class ContactEraseView(APIView):
    @extend_schema(
        summary="Erase this person",
        description="Replaces the person's personal data by a neutral placeholder everywhere it is stored; "
        "deals and amounts stay. Administrators only; 409 while a legal hold is set. A retry with the "
        "same `Idempotency-Key` gets the first answer back.",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: ErasureSerializer,
            **WRITE_ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="Under legal hold (`legal_hold`)."),
        },
    )
    def post(self, request, pk):
        def make():
            contact = _visible_contact(request, pk)
            try:
                log = services.contact_erase(user=request.user, contact=contact)
            except services.ErasureRefused as exc:
                raise UnderLegalHold(str(exc.message)) from None
            return Response(ErasureSerializer(log).data, status=200)

        return idempotent_response(request, make)


class LegalHoldSerializer(serializers.Serializer):
    held = serializers.BooleanField(read_only=True, help_text="Whether a legal hold is set.")
    reason = serializers.CharField(max_length=200, help_text="Why the data must be kept.")
    set_by = serializers.IntegerField(read_only=True, allow_null=True, source="set_by_id")
    set_at = serializers.DateTimeField(read_only=True, allow_null=True)


def _hold_data(hold: LegalHold | None) -> dict:
    if hold is None:
        return {"held": False, "reason": "", "set_by": None, "set_at": None}
    return {**LegalHoldSerializer(hold).data, "held": True}


class ContactLegalHoldView(APIView):
    def _contact(self, request, pk) -> Contact:
        contact = _visible_contact(request, pk)
        if not can_edit(request.user, contact):
            raise PermissionDenied("You may see this contact but not change it.")
        return contact

    @extend_schema(responses={200: LegalHoldSerializer, **ERRORS})
    def get(self, request, pk):
        contact = _visible_contact(request, pk)
        return Response(_hold_data(LegalHold.objects.filter(contact=contact).first()))

    @extend_schema(
        summary="Set the legal hold (or change its reason)",
        request=LegalHoldSerializer,
        responses={200: LegalHoldSerializer, **WRITE_ERRORS},
    )
    def put(self, request, pk):
        contact = self._contact(request, pk)
        data = LegalHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.legal_hold_set(user=request.user, contact=contact, reason=data.validated_data["reason"])
        return Response(_hold_data(hold))

    @extend_schema(summary="Lift the legal hold", responses={204: None, **WRITE_ERRORS})
    def delete(self, request, pk):
        services.legal_hold_lift(user=request.user, contact=self._contact(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
