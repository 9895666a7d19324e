from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from .rounding import line_net
from .validators import currency_code, plausible_date


class OutboxEvent(models.Model):
    """A side effect (webhook, e-mail, recomputation) written in the same transaction as the change.

    Delivery happens after commit by a Celery task; if the broker is down the row waits here and the
    periodic sweep delivers it later, so a move or an edit never fails because Redis is away.
    """

    topic = models.CharField(_("topic"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # The request (or task) that wrote the event: its delivery, and the tasks the delivery queues, log
    # under the same id, even when the beat sweep delivers it an hour later (core/logs.py).
    request_id = models.CharField(_("request id"), max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(delivered_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self):
        return f"{self.topic} #{self.pk}"


class ExchangeRate(models.Model):
    """How much one unit of ``currency`` is worth in the base currency from ``valid_from`` on."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_code])
    valid_from = models.DateField(_("valid from"), validators=[plausible_date])
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_("Value of one unit of the currency in the base currency."),
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchangerate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]

    def __str__(self):
        return f"1 {self.currency} = {self.rate} ({self.valid_from})"


class PricedLine(models.Model):
    """Quantity × unit price less a discount: the shape of deal lines and quote lines."""

    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, default=Decimal(1), validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="%(app_label)s_%(class)s_quantity_positive",
                violation_error_message=_("The quantity must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="%(app_label)s_%(class)s_price_not_negative",
                violation_error_message=_("The unit price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="%(app_label)s_%(class)s_discount_range",
                violation_error_message=_("The discount must be between 0 and 100%."),
            ),
        ]

    # The largest amount a deal or a quote total holds (14 digits, 2 decimals).
    MAX_TOTAL = Decimal("999999999999.99")

    def clean(self):
        super().clean()
        if self.quantity is None or self.unit_price is None or self.discount_percent is None:
            return  # the fields' own validation reports what is missing
        if self.net_total > self.MAX_TOTAL:
            largest = number_format(self.MAX_TOTAL, 2, force_grouping=True)
            message = _("Quantity × unit price is larger than the largest amount we can store (%(max)s).") % {
                "max": largest
            }
            raise ValidationError({"quantity": [message], "unit_price": [message]})

    @property
    def net_total(self) -> Decimal:
        """Quantity × unit price less the discount, rounded to the cent (half up)."""
        return line_net(quantity=self.quantity, unit_price=self.unit_price, discount_percent=self.discount_percent)


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``: a retry gets it back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("idempotency key"), max_length=200)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        # Created by the integrations app, whose table it keeps (core/migrations/0004).
        db_table = "integrations_idempotencyrecord"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
