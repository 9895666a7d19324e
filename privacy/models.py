from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Consent(models.Model):
    """One consent event of a contact for one purpose: given or withdrawn, when, how, and the
    exact text they agreed to. The latest row per purpose is the contact's current state."""

    class Method(models.TextChoices):
        WEB_FORM = "web_form", _("web form")
        IMPORT = "import", _("import")
        MANUAL = "manual", _("by hand")
        API = "api", _("API")

    contact = models.ForeignKey(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=100, help_text=_("e.g. marketing e-mail"))
    given = models.BooleanField(_("given"), help_text=_("False when the consent was withdrawn."))
    method = models.CharField(_("how"), max_length=20, choices=Method.choices, default=Method.MANUAL)
    text = models.TextField(_("text agreed to"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("e.g. the web form's name"))
    recorded_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["contact", "purpose", "recorded_at"], name="consent_contact_purpose_idx")]

    def __str__(self):
        return f"{self.purpose}: {'given' if self.given else 'withdrawn'}"


class LegalHold(models.Model):
    """While a contact is under legal hold, their data may not be erased."""

    contact = models.OneToOneField(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="legal_hold"
    )
    reason = models.CharField(_("reason"), max_length=200)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")

    def __str__(self):
        return self.reason


class ErasureLog(models.Model):
    """That a contact was erased, by whom and when, and how many values were replaced: never the
    erased data itself."""

    contact_id_erased = models.PositiveBigIntegerField(_("contact id"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("erased by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    replaced = models.JSONField(_("values replaced per table"), default=dict)
    files = models.PositiveIntegerField(_("files replaced"), default=0)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-erased_at"]

    def __str__(self):
        return f"#{self.contact_id_erased} {self.erased_at:%Y-%m-%d}"


class PrivacySettings(models.Model):
    """One row: how long contacts with no activity are kept before they are listed for review."""

    retention_days = models.PositiveIntegerField(
        _("keep contacts with no activity for (days)"), default=730, help_text=_("0 turns the review off.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("privacy settings")
        verbose_name_plural = _("privacy settings")

    def __str__(self):
        return f"{self.retention_days}"

    @classmethod
    def current(cls) -> "PrivacySettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class RetentionReview(models.Model):
    """A contact past the retention period, listed by the periodic task for a person to review
    (the task never deletes anything)."""

    contact = models.OneToOneField(
        "contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="retention_review"
    )
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    listed_at = models.DateTimeField(_("listed at"), default=timezone.now)

    class Meta:
        verbose_name = _("contact to review")
        verbose_name_plural = _("contacts to review")
        ordering = ["last_activity_at", "id"]

    def __str__(self):
        return f"#{self.contact_id}"
