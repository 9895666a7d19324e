from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.models import PricedLine
from core.validators import currency_code, plausible_date

from .querysets import QuoteQuerySet
from .vat import totals_of


class Quote(models.Model):
    """A quote (preventivo) sent to a customer, usually for an opportunity.

    Numbered per year (``2026/0001``); a sent quote is frozen, a revision is a new quote.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")

    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True, editable=False)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    issue_date = models.DateField(_("issue date"), null=True, blank=True, validators=[plausible_date])
    valid_until = models.DateField(_("valid until"), null=True, blank=True, validators=[plausible_date])
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[currency_code])
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("terms and conditions"), blank=True)
    revision_of = models.ForeignKey(
        "self",
        verbose_name=_("revision of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="quotes"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-year", "-sequence", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="quote_unique_number"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(issue_date__isnull=True)
                | Q(valid_until__gte=F("issue_date")),
                name="quote_valid_after_issue",
                violation_error_message=_("A quote cannot expire before it is issued."),
            ),
            models.CheckConstraint(
                condition=Q(opportunity__isnull=False) | Q(organization__isnull=False) | Q(contact__isnull=False),
                name="quote_has_customer",
                violation_error_message=_("A quote needs an opportunity, an organization or a contact."),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("quotes:detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @cached_property
    def totals(self):
        """Subtotal, VAT and total of the lines, the arithmetic of the quote page and the PDF (the
        list's selector prefetches the lines)."""
        return totals_of(self.lines.all())

    @property
    def customer(self):
        return self.organization or self.contact or (self.opportunity.customer if self.opportunity else None)

    @property
    def number(self) -> str:
        if self.year is None or self.sequence is None:
            return str(_("(draft)"))
        return f"{self.year}/{self.sequence:04d}"


class QuoteLine(PricedLine):
    """A line of a quote: description, quantity, price, discount and its VAT rate."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quote_lines",
    )
    description = models.CharField(_("description"), max_length=300)
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("22.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    vat_exemption_note = models.CharField(
        _("VAT exemption note"),
        max_length=200,
        blank=True,
        help_text=_("Required with 0% VAT, e.g. “Non imponibile art. 8 DPR 633/72”."),
    )

    class Meta(PricedLine.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            *PricedLine.Meta.constraints,
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=100),
                name="quoteline_vat_range",
                violation_error_message=_("The VAT rate must be between 0 and 100%."),
            ),
        ]

    def __str__(self):
        return self.description


class QuoteCounter(models.Model):
    """The last number given to a quote of ``year``. Its row is locked while a quote is numbered, so
    numbers are gap-free and never repeat, even when two people send quotes at the same moment."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("quote counter")
        verbose_name_plural = _("quote counters")

    def __str__(self):
        return f"{self.year}: {self.last}"
