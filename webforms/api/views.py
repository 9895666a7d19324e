"""`/api/v1/web-forms/` (read) and `/api/v1/web-form-submissions/` (list, read): what managers and
admins see on the pages, through the same selectors."""

import django_filters
from rest_framework import serializers, viewsets

from .. import selectors
from ..models import Submission, WebForm


class WebFormSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebForm
        fields = [
            "id",
            "name",
            "slug",
            "active",
            "language",
            "fields",
            "pipeline",
            "stage",
            "deal_name_pattern",
            "lead_source",
            "thank_you_text",
            "redirect_url",
            "allowed_origins",
            "consent_text",
            "consent_version",
            "assignment",
            "assignee",
            "team",
            "min_fill_seconds",
            "check_mail_domain",
            "owner",
            "created_at",
            "updated_at",
        ]


class SubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Submission
        fields = [
            "id",
            "form",
            "status",
            "suspicion",
            "reject_reason",
            "data",
            "email",
            "page_url",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "ip",
            "user_agent",
            "language",
            "consent_given",
            "consent_text",
            "consent_version",
            "contact",
            "organization",
            "opportunity",
            "assigned_to",
            "reviewed_at",
            "created_at",
        ]


class SubmissionFilter(django_filters.FilterSet):
    class Meta:
        model = Submission
        fields = ["form", "status", "utm_campaign"]


class WebFormViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WebFormSerializer
    queryset = WebForm.objects.none()

    def get_queryset(self):
        return selectors.webform_list(user=self.request.user)


class SubmissionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilter
    queryset = Submission.objects.none()

    def get_queryset(self):
        return selectors.submission_list(user=self.request.user)
