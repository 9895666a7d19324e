"""`/api/v1/webhooks/`: each user manages their own subscriptions, reads their delivery log and asks
for redeliveries."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ERRORS, IDEMPOTENCY_KEY, WRITE_ERRORS, ServiceViewSet, service_viewset_schema

from .. import services
from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription
from ..webhooks import webhook_delivery_log


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False)
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=300,
        help_text="The signing secret: a Standard Webhooks `whsec_` secret, or any text of at least 16 "
        "characters (its UTF-8 bytes are the key, returned as `whsec_` + base64). Leave it out for a "
        "generated one. Returned only when the webhook is created and when its secret is rotated.",
    )
    active = serializers.BooleanField(default=True, help_text="Absent on creation: active.")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "target_url", "secret", "events", "active", "created_at"]
        read_only_fields = ["created_at"]


class WebhookWithSecretSerializer(WebhookSerializer):
    """A webhook with its signing secret (``whsec_`` form): the answer to a create and a rotation."""

    secret = serializers.CharField(
        required=False,
        min_length=16,
        max_length=300,
        help_text="The signing secret in the Standard Webhooks form (`whsec_` + base64 of the key).",
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "topic",
            "status",
            "attempts",
            "response_status",
            "response_body",
            "error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]


@service_viewset_schema(WebhookSerializer)
@extend_schema_view(
    create=extend_schema(
        request=WebhookSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: WebhookWithSecretSerializer, **WRITE_ERRORS},
    )
)
class WebhookViewSet(ServiceViewSet):
    serializer_class = WebhookSerializer
    queryset = WebhookSubscription.objects.none()
    writable = ("target_url", "secret", "events", "active")

    def get_serializer_class(self):
        # The secret is shown once: in the answer to the create (and to a rotation).
        return WebhookWithSecretSerializer if self.action == "create" else WebhookSerializer

    def select_list(self):
        return WebhookSubscription.objects.filter(owner=self.request.user).order_by("-created_at", "-id")

    def select_one(self, pk):
        return self.select_list().get(pk=pk)

    def can_change(self, obj):
        return obj.owner_id == self.request.user.pk

    def perform_create(self, data):
        return services.webhook_create(user=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.webhook_update(webhook=obj, user=self.request.user, data=data)

    def perform_archive(self, obj):
        services.webhook_delete(webhook=obj, user=self.request.user)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log of this subscription, newest first: only deliveries about records you may
        see now."""
        hook = self.get_object()
        self._etag_object = None
        page = self.paginate_queryset(webhook_delivery_log(subscription=hook, user=request.user))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={200: WebhookWithSecretSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Replace the signing secret by a new generated one, returned in this answer only. The old
        secret stops signing at once."""
        hook = self.get_object()
        self._check_change(hook)
        hook = services.webhook_secret_rotate(webhook=hook, user=request.user)
        self._etag_object = None
        return Response(WebhookWithSecretSerializer(hook).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={202: WebhookDeliverySerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        """Send this delivery again, now, as a new attempt with the same `webhook-id`. 202: queued;
        its outcome shows in the delivery log."""
        hook = self.get_object()
        self._check_change(hook)
        self._etag_object = None
        delivery = webhook_delivery_log(subscription=hook, user=request.user).filter(pk=int(delivery_id)).first()
        if delivery is None:
            raise NotFound()
        delivery = services.webhook_delivery_redeliver(delivery=delivery, user=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
