from decimal import Decimal

from babel.numbers import format_percent
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()


@register.filter
def percent(value):
    """A fraction (``0.6316``) as a percentage in the active locale (``63.2%``); ``—`` when empty."""
    if value is None or value == "":
        return "—"
    return format_percent(Decimal(value), format="#,##0.0%", locale=to_locale(get_language() or "en"))
