"""`/api/v1/webhooks/`: each user manages their own subscriptions and reads their delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from core.api.base import ERRORS, ServiceViewSet, service_viewset_schema

from .. import services
from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription
from ..webhooks import webhook_delivery_log


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False)
    secret = serializers.CharField(write_only=True, min_length=16, max_length=200)
    active = serializers.BooleanField(default=True, help_text="Absent on creation: active.")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "target_url", "secret", "events", "active", "created_at"]
        read_only_fields = ["created_at"]


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
class WebhookViewSet(ServiceViewSet):
    serializer_class = WebhookSerializer
    queryset = WebhookSubscription.objects.none()
    writable = ("target_url", "secret", "events", "active")

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
        obj.delete()  # a subscription is configuration, not business data: deleting it is fine

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log of this subscription, newest first: only deliveries about records you may
        see now."""
        hook = self.get_object()
        self._etag_object = None
        page = self.paginate_queryset(webhook_delivery_log(subscription=hook, user=request.user))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
