"""Export columns for the custom fields of a record kind, with real spreadsheet types: numbers and
money amounts as numbers, dates as dates, yes/no as booleans, choices as their labels."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from core.exports import Column

from .models import FieldType
from .selectors import definitions_for


def export_value(definition, value, users: dict):
    if value is None:
        return None
    t = definition.type
    try:
        if t == FieldType.INTEGER:
            return int(value)
        if t in (FieldType.DECIMAL, FieldType.PERCENT):
            return Decimal(value)
        if t == FieldType.MONEY:
            return Decimal(value["amount"]) if isinstance(value, dict) else Decimal(value)
        if t == FieldType.DATE:
            return datetime.date.fromisoformat(value)
        if t == FieldType.DATETIME:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, TypeError, ArithmeticError, KeyError):
        return str(value)
    if t == FieldType.BOOLEAN:
        return bool(value)
    if t == FieldType.CHOICE:
        return definition.choice_label(value)
    if t == FieldType.MULTI_CHOICE:
        return ", ".join(definition.choice_label(v) for v in value)
    if t == FieldType.USER:
        return users.get(value, value)
    return value


def custom_export_columns(entity: str) -> list[Column]:
    """One column per active definition (two for money: the amount and its currency)."""
    definitions = definitions_for(entity)
    users: dict = {}
    if any(d.type == FieldType.USER for d in definitions):
        from accounts.models import User

        users = {u.pk: str(u) for u in User.objects.all()}
    columns = []
    for d in definitions:
        columns.append(Column(d.label, lambda row, d=d: export_value(d, (row.custom_fields or {}).get(d.key), users)))
        if d.type == FieldType.MONEY:
            columns.append(
                Column(
                    _("%(field)s currency") % {"field": d.label},
                    lambda row, d=d: ((row.custom_fields or {}).get(d.key) or {}).get("currency"),
                )
            )
    return columns
