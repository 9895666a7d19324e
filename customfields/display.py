"""Custom values as people read them: on detail pages (by section), in list columns and on board cards.

Money with its currency, numbers and dates in the reader's locale, choices by their translated label
(a removed choice says so), a user as a link to their deals, an address as a link. A page asks for
the values of many records at once: the user names they mention come from the shared cache (one
query for the ones it misses), so a list or a board costs the same queries with or without them.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from .models import CustomField, FieldType
from .selectors import definitions_for
from .types import is_empty

USER_NAME_SECONDS = 300
# Part of the key: the test suite changes it for each test (ids come back after a rollback).
namespace = "customfield-user-names"


@dataclass(frozen=True)
class Shown:
    """One custom value ready for a template: ``text`` ("" when empty), an optional ``url``."""

    definition: CustomField
    text: str
    url: str = ""
    removed: bool = False

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def key(self) -> str:
        return self.definition.key


def _locale() -> str:
    return to_locale(get_language() or "en")


def _number(value, *, places: int | None = None) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if places is None:
        places = max(0, -number.normalize().as_tuple().exponent)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(number, format=pattern, locale=_locale())


def user_names(ids) -> dict[int, str]:
    """Display names of users by id, from the shared cache; one query for the ones it lacks."""
    ids = {int(i) for i in ids if isinstance(i, int) or str(i).isdigit()}
    if not ids:
        return {}
    keys = {f"{namespace}:{i}": i for i in ids}
    found = {keys[k]: name for k, name in cache.get_many(list(keys)).items()}
    missing = ids - set(found)
    if missing:
        from accounts.models import User

        fetched = {u.pk: str(u) for u in User.objects.filter(pk__in=missing)}
        cache.set_many({f"{namespace}:{pk}": name for pk, name in fetched.items()}, USER_NAME_SECONDS)
        found.update(fetched)
    return found


def user_name_forget(user_id) -> None:
    cache.delete(f"{namespace}:{user_id}")


def value_shown(definition: CustomField, value, names: dict | None = None) -> Shown:
    """``value`` (as stored) of ``definition`` formatted for the reader."""
    if is_empty(value):
        return Shown(definition, "")
    t = definition.type
    try:
        if t == FieldType.MONEY:
            amount, currency = (value.get("amount"), value.get("currency")) if isinstance(value, dict) else (value, "")
            from django.conf import settings

            text = format_currency(Decimal(str(amount)), currency or settings.CRM_BASE_CURRENCY, locale=_locale())
            return Shown(definition, text)
        if t == FieldType.INTEGER:
            return Shown(definition, _number(value, places=0))
        if t == FieldType.DECIMAL:
            return Shown(definition, _number(value))
        if t == FieldType.PERCENT:
            return Shown(definition, f"{_number(value)} %")
        if t == FieldType.DATE:
            return Shown(definition, date_format(datetime.date.fromisoformat(value), "SHORT_DATE_FORMAT"))
        if t == FieldType.DATETIME:
            moment = timezone.localtime(datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
            return Shown(definition, date_format(moment, "SHORT_DATETIME_FORMAT"))
    except (ValueError, TypeError, ArithmeticError, AttributeError):
        return Shown(definition, str(value))
    if t == FieldType.BOOLEAN:
        return Shown(definition, _("Yes") if value else _("No"))
    if t == FieldType.CHOICE:
        return Shown(definition, definition.choice_label(value), removed=_is_removed(definition, value))
    if t == FieldType.MULTI_CHOICE:
        values = value if isinstance(value, list) else [value]
        return Shown(
            definition,
            ", ".join(definition.choice_label(v) for v in values),
            removed=any(_is_removed(definition, v) for v in values),
        )
    if t == FieldType.USER:
        names = names if names is not None else user_names([value])
        return Shown(
            definition, names.get(value, str(value)), url=f"{reverse('opportunities:list')}?owner={int(value)}"
        )
    if t == FieldType.URL:
        text = str(value)
        return Shown(definition, text, url=text if text.lower().startswith(("http://", "https://")) else "")
    if t == FieldType.EMAIL:
        return Shown(definition, str(value), url=f"mailto:{value}")
    if t == FieldType.PHONE:
        return Shown(definition, str(value), url=f"tel:{value}")
    return Shown(definition, str(value))


def _is_removed(definition: CustomField, key) -> bool:
    return any(c.get("key") == key and c.get("removed") for c in definition.choices or ())


def _names_for(definitions, records) -> dict:
    users = [d.key for d in definitions if d.type == FieldType.USER]
    if not users:
        return {}
    return user_names(
        (getattr(r, "custom_fields", None) or {}).get(key) for r in records for key in users if r is not None
    )


def record_sections(entity: str, record) -> list[tuple[str, list[Shown]]]:
    """The active fields of ``record`` grouped by section (in display order), with their values:
    what a detail page shows. Empty values are kept (shown as a dash) so a reader sees the field."""
    definitions = definitions_for(entity)
    if not definitions:
        return []
    names = _names_for(definitions, [record])
    values = getattr(record, "custom_fields", None) or {}
    sections: dict[str, list[Shown]] = {}
    for definition in sorted(definitions, key=lambda d: (d.order, d.pk)):
        sections.setdefault(definition.section, []).append(value_shown(definition, values.get(definition.key), names))
    return list(sections.items())


def column_name(definition: CustomField) -> str:
    return f"cf_{definition.key}"


def asked_columns(params) -> list[str]:
    """The column keys a query string asks for (repeated ``columns=`` or one comma-separated)."""
    keys = []
    for value in params.getlist("columns"):
        keys.extend(k.strip() for k in value.split(",") if k.strip())
    return list(dict.fromkeys(keys))


def custom_list_columns(entity: str, chosen=None) -> list[CustomField]:
    """The custom columns of a list: the ``cf_<key>`` fields the reader chose (``?columns=``, a saved
    view's columns), else the fields marked "list column"."""
    chosen = [c for c in chosen or () if c]
    if chosen:
        by_name = {column_name(d): d for d in definitions_for(entity)}
        return [by_name[c] for c in chosen if c in by_name]
    return [d for d in definitions_for(entity) if d.in_list]


def card_fields(entity: str) -> list[CustomField]:
    return [d for d in definitions_for(entity) if d.on_card]


def rows_attach(definitions, records, attribute: str = "custom_shown") -> None:
    """Set ``record.<attribute>`` to the values of ``definitions`` (a list of Shown) on each record."""
    records = [r for r in records if r is not None]
    if not definitions or not records:
        for record in records:
            setattr(record, attribute, [])
        return
    names = _names_for(definitions, records)
    for record in records:
        values = getattr(record, "custom_fields", None) or {}
        setattr(record, attribute, [value_shown(d, values.get(d.key), names) for d in definitions])


def list_context(entity: str):
    """``context_extra`` of ``core.views.list_page``: the list's custom columns (``?columns=`` narrows
    them) with each row's values, and the ones the reader may choose from."""

    def extra(request, rows) -> dict:
        offered = custom_list_columns(entity)
        columns = custom_list_columns(entity, asked_columns(request.GET))
        rows_attach(columns, rows)
        return {"custom_columns": columns, "custom_columns_offered": offered}

    return extra
