"""Writes that belong to no single app."""

import datetime
from decimal import Decimal

from django.db import transaction

from .models import ExchangeRate
from .outbox import event_emit


@transaction.atomic
def exchange_rate_set(*, currency: str, valid_from: datetime.date, rate: Decimal) -> ExchangeRate:
    """Create or change the rate of ``currency`` from ``valid_from``; converted amounts follow."""
    currency = currency.upper()
    obj = ExchangeRate.objects.filter(currency=currency, valid_from=valid_from).first()
    obj = obj or ExchangeRate(currency=currency, valid_from=valid_from)
    obj.rate = rate
    obj.full_clean()
    obj.save()
    event_emit("exchange_rate.changed", {"currency": currency})
    return obj
