"""`/api/v1/contacts/{id}/consents/`: a contact's consent events (GET) and a new one (POST)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_edit
from contacts.models import Contact
from core.api.base import ERRORS, WRITE_ERRORS

from .. import selectors, services
from ..models import Consent


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
