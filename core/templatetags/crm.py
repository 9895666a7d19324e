"""Template helpers available in every template (registered as a builtin in settings)."""

import datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

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


@register.filter
def audit_value(value, field):
    """A value of a deal's audit trail (stored as text when it changed) in the reader's format:
    ``{{ change.old_value|audit_value:change.field }}`` shows ``70.200,00`` for an Italian reader
    of ``amount`` ``70200.00`` and ``31/12/2026`` for a date stored as ``2026-12-31``."""
    if value is None or value == "":
        return "—"
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist
    from django.db import models

    try:
        model_field = apps.get_model("opportunities", "Opportunity")._meta.get_field(field)
    except (LookupError, FieldDoesNotExist):  # "archived" is on the trail but is not a field
        return value
    if isinstance(model_field, models.DecimalField):
        return number(value, model_field.decimal_places)
    if isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField):
        try:
            return date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return value


@register.filter
def http_url(value) -> str:
    """``value`` if it is an http(s) address, else "": what may go into an ``href`` typed by users
    (a stored ``javascript:`` address must never become a link)."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""


@register.simple_tag(takes_context=True)
def may_restore(context, obj) -> bool:
    """``{% may_restore obj as allowed %}``: whether the current user may restore this archived record."""
    from accounts.permissions import can_restore

    request = context.get("request")
    return bool(request) and can_restore(request.user, obj)


@register.simple_tag(takes_context=True)
def may_purge(context, obj) -> bool:
    """``{% may_purge obj as allowed %}``: whether the current user may delete this record for good."""
    from accounts.permissions import can_purge

    request = context.get("request")
    return bool(request) and can_purge(request.user, obj)


@register.simple_tag
def edit_button(pk, field: str, label, enabled=True):
    """The pencil of a value edited in place (static/js/deal.js posts the deal's field form at its
    address), or nothing when the reader may not change the deal. A tag, not an include: a deal
    list page shows four hundred of them."""
    if not enabled:
        return ""
    text = _("Edit %(label)s") % {"label": label}
    return format_html(
        '<a class="inline-edit-button" href="{}" data-inline-edit="{}" aria-label="{}" title="{}">'
        '<i class="bi bi-pencil" aria-hidden="true"></i></a>',
        reverse("opportunities:field_edit", args=[pk, field]),
        field,
        text,
        text,
    )
