"""Template helpers available in every template (registered as a builtin in settings)."""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, to_locale

register = template.Library()


def _locale() -> str:
    return to_locale(get_language() or "en")


@register.filter
def money(value, currency=None):
    """``1234.5|money:"EUR"`` → ``€1,234.50`` in English, ``1.234,50 €`` in Italian."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return format_currency(amount, currency or settings.CRM_BASE_CURRENCY, locale=_locale())


@register.filter
def number(value, digits=0):
    """A plain number in the active locale's format (thousands separators)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    pattern = "#,##0" + ("." + "0" * int(digits) if int(digits) else "")
    return format_decimal(amount, format=pattern, locale=_locale())


@register.filter
def is_past(value):
    """True for a date or datetime before today (overdue deadlines)."""
    if not value:
        return False
    today = timezone.localdate()
    if hasattr(value, "date"):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value < today
