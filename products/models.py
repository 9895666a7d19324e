from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import JSONField, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.validators import currency_code

from .querysets import ProductQuerySet


class VatRate(models.TextChoices):
    """Italian VAT rates; 0% needs an exemption note on quotes (e.g. "art. 8 DPR 633/72")."""

    STANDARD = "22.00", _("22% (standard)")
    REDUCED = "10.00", _("10% (reduced)")
    SUPER_REDUCED = "4.00", _("4% (super-reduced)")
    EXEMPT = "0.00", _("0% (exempt or not taxable)")


class Product(models.Model):
    """An item of the catalog: a product or a service, with its list price and VAT rate."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[currency_code])
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("22.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    active = models.BooleanField(_("active"), default=True)
    # Values of the company's own fields (customfields app), keyed by each definition's stable key;
    # written only by this model's services, which validate them (customfields.services).
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, db_default=Value({}, JSONField()), editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="product_code_unique",
                violation_error_message=_("Another product already has this code."),
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="product_price_not_negative",
                violation_error_message=_("The unit price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=100),
                name="product_vat_range",
                violation_error_message=_("The VAT rate must be between 0 and 100%."),
            ),
        ]
        indexes = [models.Index(Lower("name"), name="product_name_lower_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("products:edit", args=[self.pk])
