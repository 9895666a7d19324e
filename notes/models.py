from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .querysets import NoteQuerySet


class Note(models.Model):
    """A note on a deal, a contact or an organization (exactly one of them). ``body`` is what the
    author typed (plain text with light formatting); it is sanitised when shown
    (``notes.formatting``). ``mentions`` are the users its ``@username`` words named who may see
    the record, kept so a mention notifies once."""

    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="feed_notes"
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feed_notes",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feed_notes",
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feed_notes",
    )
    pinned = models.BooleanField(_("pinned"), default=False)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mentions"), blank=True, related_name="mentioned_in_notes"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-pinned", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opportunity__isnull=False, contact__isnull=True, organization__isnull=True)
                | Q(opportunity__isnull=True, contact__isnull=False, organization__isnull=True)
                | Q(opportunity__isnull=True, contact__isnull=True, organization__isnull=False),
                name="note_one_record",
                violation_error_message=_("A note belongs to one deal, contact or organization."),
            )
        ]
        indexes = [
            models.Index(fields=["opportunity", "-pinned", "-created_at"], name="note_opp_idx"),
            models.Index(fields=["contact", "-pinned", "-created_at"], name="note_contact_idx"),
            models.Index(fields=["organization", "-pinned", "-created_at"], name="note_org_idx"),
        ]

    def __str__(self):
        return self.body[:60]

    @property
    def record(self):
        return self.opportunity or self.contact or self.organization
