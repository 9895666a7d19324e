"""Money helpers: dated conversion to the base currency and rounding to cents.

Totals never add amounts of different currencies as if they were one. Each opportunity stores its
amount converted to ``settings.CRM_BASE_CURRENCY`` with the rate valid on its reference date (close
date for closed deals, expected close date for open ones); when no rate is known the converted
amount is empty and reports show that amount apart, in its own currency.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from .models import ExchangeRate
from .rounding import CENT, quantize_cents  # noqa: F401  (part of this module's API)

# The currencies offered in forms; any ISO 4217 code is accepted by the API and imports.
COMMON_CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK"]


def base_currency() -> str:
    return settings.CRM_BASE_CURRENCY


def rate_on(currency: str, day: datetime.date) -> Decimal | None:
    """The rate valid on ``day`` (the latest one starting on or before it), or None."""
    if currency == base_currency():
        return Decimal(1)
    return (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )


def to_base(amount: Decimal | None, currency: str, day: datetime.date) -> Decimal | None:
    """``amount`` converted to the base currency on ``day``; None when no rate is known."""
    if amount is None:
        return None
    rate = rate_on(currency, day)
    if rate is None:
        return None
    return quantize_cents(amount * rate)


def rate_subquery(currency_ref: str, day_expression):
    """An ORM expression giving the rate for each row, for bulk recomputation in one UPDATE."""
    return Subquery(
        ExchangeRate.objects.filter(currency=OuterRef(currency_ref), valid_from__lte=day_expression)
        .order_by("-valid_from")
        .values("rate")[:1],
        output_field=DecimalField(max_digits=18, decimal_places=8),
    )


def currency_choices():
    codes = list(dict.fromkeys([base_currency(), *COMMON_CURRENCIES]))
    return [(code, code) for code in codes]


CURRENCY_HELP = _("Three-letter ISO 4217 code, e.g. EUR.")
