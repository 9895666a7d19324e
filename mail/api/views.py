"""`/api/v1/emails/` and `/api/v1/email-threads/`: read the e-mails and conversations of the records
you may see (``?opportunity=``, ``?contact=``, ``?organization=``, ``?thread=``)."""

from django.db.models import Count, Max, Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ERRORS, CrmViewSet

from ..models import EmailAttachment, EmailMessage, EmailThread, LinkStatus


class EmailAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmailAttachment
        fields = ["filename", "content_type", "size", "document", "not_stored_reason"]


class EmailSerializer(serializers.ModelSerializer):
    attachments = EmailAttachmentSerializer(many=True, read_only=True)
    contacts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    organizations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = EmailMessage
        fields = [
            "id",
            "thread",
            "message_id",
            "in_reply_to",
            "outgoing",
            "subject",
            "from_name",
            "from_address",
            "to",
            "cc",
            "sent_at",
            "text_body",
            "opportunity",
            "contacts",
            "organizations",
            "link_status",
            "send_status",
            "send_error",
            "attachments",
        ]
        read_only_fields = fields


class EmailThreadSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True)
    latest = serializers.DateTimeField(read_only=True)

    class Meta:
        model = EmailThread
        fields = ["id", "subject", "message_count", "latest"]


def _visible(request):
    emails = EmailMessage.objects.visible_to(request.user).exclude(link_status=LinkStatus.DISMISSED)
    for name in ("opportunity", "thread"):
        value = request.query_params.get(name)
        if value:
            if not value.isdigit():
                raise serializers.ValidationError({name: ["A whole number is required."]})
            emails = emails.filter(**{f"{name}_id": int(value)})
    for name, field in (("contact", "contacts"), ("organization", "organizations")):
        value = request.query_params.get(name)
        if value:
            if not value.isdigit():
                raise serializers.ValidationError({name: ["A whole number is required."]})
            emails = emails.filter(**{field: int(value)})
    return emails


class EmailViewSet(mixins.ListModelMixin, CrmViewSet):
    """E-mails you may see, newest first: those of a deal, contact or organization you may see."""

    serializer_class = EmailSerializer
    queryset = EmailMessage.objects.none()

    def get_queryset(self):
        return (
            _visible(self.request)
            .prefetch_related(
                Prefetch("attachments", EmailAttachment.objects.order_by("pk")), "contacts", "organizations"
            )
            .order_by("-sent_at", "-id")
        )

    @extend_schema(responses={200: EmailSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        email = self.get_queryset().filter(pk=pk).first()
        if email is None:
            raise NotFound()
        return Response(self.get_serializer(email).data)


class EmailThreadViewSet(mixins.ListModelMixin, CrmViewSet):
    """Conversations with at least one e-mail you may see, newest activity first; the counts are of
    the e-mails you may see."""

    serializer_class = EmailThreadSerializer
    queryset = EmailThread.objects.none()

    def get_queryset(self):
        visible = _visible(self.request)
        return (
            EmailThread.objects.filter(messages__in=visible.values("pk"))
            .annotate(message_count=Count("messages", distinct=True), latest=Max("messages__sent_at"))
            .order_by("-latest", "-id")
        )
