"""Web forms a manager builds in the CRM, and what visitors send through them."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .querysets import WebFormQuerySet

# The fields a form may ask for, in the order they are shown. The labels are translated by the
# catalogue, so every form speaks Italian and English.
FIELD_NAMES = ("name", "email", "phone", "company", "vat_number", "message")
FIELD_LABELS = {
    "name": _("Your name"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "company": _("Company"),
    "vat_number": _("VAT number"),
    "message": _("Message"),
}
# A new form asks for a name and an e-mail address, both required, and a message.
DEFAULT_FIELDS = {
    "name": {"shown": True, "required": True},
    "email": {"shown": True, "required": True},
    "phone": {"shown": False, "required": False},
    "company": {"shown": True, "required": False},
    "vat_number": {"shown": False, "required": False},
    "message": {"shown": True, "required": False},
}


def default_fields() -> dict:
    return {name: dict(spec) for name, spec in DEFAULT_FIELDS.items()}


class WebForm(models.Model):
    class Assignment(models.TextChoices):
        FIXED = "fixed", _("Always the same user")
        ROUND_ROBIN = "round_robin", _("Round-robin within a team")
        FEWEST_OPEN = "fewest_open", _("Team member with the fewest open deals")

    class Language(models.TextChoices):
        ITALIAN = "it", _("Italian")
        ENGLISH = "en", _("English")
        BROWSER = "", _("The visitor's browser")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True, help_text=_("The form lives at /f/<address>/."))
    active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True, default="")
    fields = models.JSONField(_("fields"), default=default_fields)
    pipeline = models.ForeignKey(
        "pipeline.Pipeline", verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        "pipeline.Stage",
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the pipeline's first stage (New)."),
    )
    deal_name_pattern = models.CharField(
        _("deal name"),
        max_length=200,
        default="{company} – {name}",
        help_text=_("Placeholders: {name}, {company}, {email}, {form}."),
    )
    lead_source = models.CharField(_("lead source"), max_length=20, default="website")
    thank_you_text = models.TextField(_("thank-you text"), blank=True)
    redirect_url = models.URLField(_("redirect to"), blank=True, help_text=_("Instead of the thank-you text."))
    allowed_origins = models.TextField(
        _("allowed sites"),
        blank=True,
        help_text=_("One origin a line (https://www.example.com): the sites that may embed or post this form."),
    )
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent version"), max_length=40, blank=True)
    assignment = models.CharField(
        _("assign deals to"), max_length=20, choices=Assignment.choices, default=Assignment.FIXED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The last user round-robin gave a deal to (the next one is the following member by id).
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last assigned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    min_fill_seconds = models.PositiveSmallIntegerField(
        _("minimum fill time (seconds)"), default=3, help_text=_("Faster submissions go to the review queue.")
    )
    check_mail_domain = models.BooleanField(_("check that the e-mail domain accepts mail"), default=False)
    # The manager on whose behalf the form's deals, contacts and organizations are written.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="web_forms"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = WebFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("webforms:detail", args=[self.pk])

    def shown_fields(self) -> list[str]:
        return [name for name in FIELD_NAMES if self.fields.get(name, {}).get("shown")]

    def is_required(self, name: str) -> bool:
        spec = self.fields.get(name, {})
        return bool(spec.get("shown") and spec.get("required"))

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/").lower() for line in self.allowed_origins.splitlines() if line.strip()]


class Submission(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REVIEW = "review", _("To review")
        REJECTED = "rejected", _("Rejected")

    form = models.ForeignKey(WebForm, verbose_name=_("form"), on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    # Why it waits for review (honeypot, too_fast, rate_limited, mail_domain), or why it was rejected.
    suspicion = models.CharField(_("why it was held"), max_length=200, blank=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=200, blank=True)
    data = models.JSONField(_("fields"), default=dict)
    email = models.EmailField(_("e-mail"), blank=True)
    page_url = models.CharField(_("page"), max_length=2000, blank=True)
    referrer = models.CharField(_("referrer"), max_length=2000, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=200, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=200, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=200, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=200, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent version"), max_length=40, blank=True)
    # The one-time token of the hosted page or iframe: the same token twice is a replay.
    nonce = models.CharField(verbose_name=_("one-time token"), max_length=64, null=True, blank=True, editable=False)
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "nonce"], name="webform_submission_nonce_unique"),
        ]
        indexes = [models.Index(fields=["form", "status", "-created_at"], name="webform_submission_status_idx")]

    def __str__(self):
        return f"{self.form} · {self.email or self.pk}"

    def get_absolute_url(self):
        return reverse("webforms:submission", args=[self.pk])
