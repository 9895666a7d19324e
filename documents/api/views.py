"""`/api/v1/documents/`: multipart upload to a deal, organization or contact, listing, download."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.permissions import can_edit
from contacts.models import Contact, Organization
from core.api.base import ERRORS, IDEMPOTENCY_KEY, WRITE_ERRORS, CrmViewSet
from core.api.fields import VisibleRelatedField
from opportunities.models import Opportunity

from .. import services
from ..filetypes import extension_of, served_content_type
from ..models import Document


class DocumentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)
    opportunity = VisibleRelatedField(model=Opportunity, required=False, allow_null=True)
    organization = VisibleRelatedField(model=Organization, required=False, allow_null=True)
    contact = VisibleRelatedField(model=Contact, required=False, allow_null=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "file",
            "original_name",
            "content_type",
            "size",
            "description",
            "opportunity",
            "organization",
            "contact",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = ["original_name", "content_type", "size", "uploaded_by", "created_at"]


class DocumentViewSet(mixins.ListModelMixin, CrmViewSet):
    serializer_class = DocumentSerializer
    parser_classes = [parsers.MultiPartParser]  # a file: the one body that is not JSON
    queryset = Document.objects.none()
    filterset_fields = ["opportunity", "organization", "contact"]

    def get_queryset(self):
        return Document.objects.visible_to(self.request.user).order_by("-id")

    def get_object(self):
        document = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if document is None:
            raise NotFound()
        return document

    @extend_schema(responses={200: DocumentSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={201: DocumentSerializer, **WRITE_ERRORS})
    def create(self, request):
        """Upload a file (multipart) to exactly one deal, organization or contact you may see; a retry
        with the same ``Idempotency-Key`` gets the first answer and stores nothing new."""

        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            document = services.document_upload(user=request.user, **dict(serializer.validated_data))
            return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, make)

    @extend_schema(responses={(200, "application/octet-stream"): bytes, **ERRORS})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file, as an attachment with a content type that never renders as a page."""
        document = self.get_object()
        try:
            handle = document.file.open("rb")
        except (FileNotFoundError, OSError):
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=document.original_name)
        response["Content-Type"] = served_content_type(extension_of(document.original_name))
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"  # as the page's download
        return response

    @extend_schema(responses={204: None, **WRITE_ERRORS})
    def destroy(self, request, pk=None):
        document = self.get_object()
        if not (document.uploaded_by_id == request.user.pk or can_edit(request.user, document.parent)):
            raise PermissionDenied("You may see this document but not delete it.")
        services.document_delete(document=document, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
