"""One validation function per custom field type: raw input in, the stored JSON value out.

Each function takes the definition and a value that is not empty, and returns what goes into the
record's ``custom_fields`` column, or raises :class:`InvalidValue` with a message for people. The
stored forms are chosen so PostgreSQL and SQLite compare them correctly: dates as ISO text
(lexical order is date order), decimals as canonical text (cast to numeric to compare), money as
``{"amount": "12.50", "currency": "EUR"}``, a user as its id, a phone number as E.164 text.
"""

import datetime
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .models import FieldType

PHONE_REGION = "IT"  # numbers written without +country are Italian ones
TEXT_MAX, LONG_TEXT_MAX = 255, 10000


class InvalidValue(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


def _text(definition, value, limit=TEXT_MAX):
    if not isinstance(value, str):
        raise InvalidValue(_("Enter a text."))
    value = value.strip()
    if len(value) > limit:
        raise InvalidValue(_("Enter at most %(limit)d characters.") % {"limit": limit})
    return value


def _long_text(definition, value):
    return _text(definition, value, LONG_TEXT_MAX)


def _integer(definition, value):
    if isinstance(value, bool):
        raise InvalidValue(_("Enter a whole number."))
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValue(_("Enter a whole number.")) from None
    if number != number.to_integral_value() or not number.is_finite():
        raise InvalidValue(_("Enter a whole number."))
    return int(number)


def _decimal_text(value, *, places: int | None = None) -> str:
    if isinstance(value, bool):
        raise InvalidValue(_("Enter a number."))
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value).strip().replace(",", ".") if isinstance(value, str) else value)
    except (InvalidOperation, TypeError):
        raise InvalidValue(_("Enter a number.")) from None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        raise InvalidValue(_("Enter a number."))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    return str(number.normalize() if places is None else number)


def _decimal(definition, value):
    return _decimal_text(value)


def _percent(definition, value):
    text = _decimal_text(value)
    if not Decimal("0") <= Decimal(text) <= Decimal("100"):
        raise InvalidValue(_("Enter a percentage between 0 and 100."))
    return text


def _money(definition, value):
    from core.currency import base_currency

    if isinstance(value, dict):
        amount, currency = value.get("amount"), value.get("currency") or base_currency()
    else:
        amount, currency = value, base_currency()
    if amount in (None, ""):
        raise InvalidValue(_("Enter an amount."))
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise InvalidValue(_("Enter a three-letter currency code."))
    return {"amount": _decimal_text(amount, places=2), "currency": currency.strip().upper()}


def _date(definition, value):
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidValue(_("Enter a date as YYYY-MM-DD."))
    return parsed.isoformat()


def _datetime(definition, value):
    if not isinstance(value, datetime.datetime):
        try:
            value = parse_datetime(str(value).strip())
        except ValueError:
            value = None
        if value is None:
            raise InvalidValue(_("Enter a date and time as YYYY-MM-DDTHH:MM."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


TRUE, FALSE = {"true", "1", "yes", "on", "sì", "si", "vero"}, {"false", "0", "no", "off", "falso"}


def _boolean(definition, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise InvalidValue(_("Enter yes or no."))


def _choice_key(definition, value, old_keys=()):
    keys = {c["key"]: c for c in definition.choices or ()}
    if not isinstance(value, str) or value not in keys:
        raise InvalidValue(_("“%(value)s” is not one of the choices.") % {"value": value})
    if keys[value].get("removed") and value not in old_keys:
        raise InvalidValue(_("The choice “%(value)s” was removed.") % {"value": value})
    return value


def _choice(definition, value, old=None):
    return _choice_key(definition, value, old_keys=(old,))


def _multi_choice(definition, value, old=None):
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        raise InvalidValue(_("Enter a list of choices."))
    old_keys = tuple(old) if isinstance(old, list) else ()
    out = []
    for item in value:
        key = _choice_key(definition, item, old_keys)
        if key not in out:
            out.append(key)
    return out


def _url(definition, value):
    value = _text(definition, value, 2000)
    try:
        URLValidator()(value)
    except DjangoValidationError:
        raise InvalidValue(_("Enter a valid URL.")) from None
    return value


def _email(definition, value):
    value = _text(definition, value, 254)
    try:
        EmailValidator()(value)
    except DjangoValidationError:
        raise InvalidValue(_("Enter a valid e-mail address.")) from None
    return value.lower()


def _phone(definition, value):
    value = _text(definition, value, 50)
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidValue(_("Enter a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _user(definition, value):
    from accounts.models import User

    pk = getattr(value, "pk", value)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a user.")) from None
    if not User.objects.filter(pk=pk, is_active=True).exists():
        raise InvalidValue(_("Choose an active user."))
    return pk


VALIDATORS = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _long_text,
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: _decimal,
    FieldType.MONEY: _money,
    FieldType.PERCENT: _percent,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.BOOLEAN: _boolean,
    FieldType.CHOICE: _choice,
    FieldType.MULTI_CHOICE: _multi_choice,
    FieldType.URL: _url,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.USER: _user,
}


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def value_clean(definition, value, *, old=None):
    """The stored form of ``value`` for ``definition`` (None when empty). Raises InvalidValue.

    ``old`` is the record's current value: a choice removed since it was set may be kept."""
    if is_empty(value):
        return None
    validator = VALIDATORS[definition.type]
    if definition.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return validator(definition, value, old=old)
    return validator(definition, value)
