"""The REST API, version 1: one router for every resource, plus the schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api.views import TeamViewSet, UserViewSet
from activities.api.views import ActivityViewSet
from bulk.api.views import BulkJobViewSet
from contacts.api.views import ContactViewSet, OrganizationViewSet
from customfields.api.views import CustomFieldViewSet
from dedupe.api.views import DuplicateListView, MergeView
from documents.api.views import DocumentViewSet
from imports.api.views import ImportJobViewSet, ImportMappingViewSet
from integrations.api.views import WebhookViewSet
from mail.api.views import EmailThreadViewSet, EmailViewSet
from notes.api.views import NoteViewSet
from opportunities.api.views import OpportunityLineViewSet, OpportunityViewSet
from pipeline.api.views import LostReasonViewSet, PipelineViewSet, StageViewSet
from privacy.api.views import ContactConsentView, ContactEraseView, ContactExportView, ContactLegalHoldView
from products.api.views import ProductViewSet
from quotes.api.views import QuoteLineViewSet, QuoteViewSet
from savedviews.api.views import SavedViewViewSet
from tags.api.views import TagViewSet
from webforms.api.views import SubmissionViewSet, WebFormViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("contacts", ContactViewSet, basename="contact")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("opportunity-lines", OpportunityLineViewSet, basename="opportunity-line")
router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("stages", StageViewSet, basename="stage")
router.register("lost-reasons", LostReasonViewSet, basename="lost-reason")
router.register("users", UserViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")
router.register("products", ProductViewSet, basename="product")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("quote-lines", QuoteLineViewSet, basename="quote-line")
router.register("documents", DocumentViewSet, basename="document")
router.register("activities", ActivityViewSet, basename="activity")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("imports", ImportJobViewSet, basename="import")
router.register("import-mappings", ImportMappingViewSet, basename="import-mapping")
router.register("web-forms", WebFormViewSet, basename="web-form")
router.register("web-form-submissions", SubmissionViewSet, basename="web-form-submission")
router.register("custom-fields", CustomFieldViewSet, basename="custom-field")
router.register("bulk-jobs", BulkJobViewSet, basename="bulk-job")
router.register("saved-views", SavedViewViewSet, basename="saved-view")
router.register("emails", EmailViewSet, basename="email")
router.register("email-threads", EmailThreadViewSet, basename="email-thread")
router.register("tags", TagViewSet, basename="tag")
router.register("notes", NoteViewSet, basename="note")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    path("merges/", MergeView.as_view(), name="merge"),
    path("duplicates/", DuplicateListView.as_view(), name="duplicates"),
    path("contacts/<int:pk>/consents/", ContactConsentView.as_view(), name="contact-consents"),
    path("contacts/<int:pk>/export/", ContactExportView.as_view(), name="contact-export"),
    path("contacts/<int:pk>/erase/", ContactEraseView.as_view(), name="contact-erase"),
    path("contacts/<int:pk>/legal-hold/", ContactLegalHoldView.as_view(), name="contact-legal-hold"),
    path("", include(router.urls)),
]
