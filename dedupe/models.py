from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MergeEvent(models.Model):
    """One merge: who merged which records into which survivor, when, and what moved.

    The timeline of the survivor (``dedupe/partials/merge_history.html``) shows these rows."""

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", _("organization")
        CONTACT = "contact", _("contact")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    survivor_id = models.PositiveBigIntegerField(_("survivor"))
    merged_ids = models.JSONField(_("merged records"), default=list)
    # Ids and counts only: no personal data is copied here (erasure need not look into it).
    fields_taken = models.JSONField(_("fields taken from the merged records"), default=dict)
    moved = models.JSONField(_("related records moved"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("merged by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at", "-id"]
        indexes = [models.Index(fields=["kind", "survivor_id"], name="merge_event_survivor_idx")]

    def __str__(self):
        return f"{self.kind} {self.merged_ids} → {self.survivor_id}"
