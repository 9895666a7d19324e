from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .querysets import DocumentQuerySet


def document_upload_to(instance, filename):
    # The stored name never reuses the uploaded one (which may hold anything); the original is kept
    # in ``original_name`` for the download's Content-Disposition.
    import uuid

    return f"documents/{uuid.uuid4().hex}"


class Document(models.Model):
    """A file attached to exactly one opportunity, organization or contact."""

    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    description = models.CharField(_("description"), max_length=300, blank=True)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documents",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(opportunity__isnull=False, organization__isnull=True, contact__isnull=True)
                    | Q(opportunity__isnull=True, organization__isnull=False, contact__isnull=True)
                    | Q(opportunity__isnull=True, organization__isnull=True, contact__isnull=False)
                ),
                name="document_one_parent",
                violation_error_message=_("A document belongs to exactly one opportunity, organization or contact."),
            )
        ]

    def __str__(self):
        return self.original_name

    @property
    def parent(self):
        return self.opportunity or self.organization or self.contact
