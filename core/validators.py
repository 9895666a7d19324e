"""Validators shared by the models' fields, so forms, the API and imports refuse the same input."""

import datetime
import functools

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

FIRST_YEAR, LAST_YEAR = 1900, 2999


@deconstructible
class PlausibleDate:
    """A date (or date and time) a sales team can mean: years 1900 to 2999.

    Year 54 is a typo for 2054, never a meeting. Refusing it also keeps time zones sane: before
    about 1893 Europe/Rome used local mean time, whose offset (+00:49:56) is not valid ISO 8601.
    """

    message = _("Enter a date between the years %(first)s and %(last)s.")
    code = "implausible_date"

    def __call__(self, value):
        if isinstance(value, datetime.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationError(self.message, code=self.code, params={"first": FIRST_YEAR, "last": LAST_YEAR})

    def __eq__(self, other):
        return isinstance(other, PlausibleDate)


plausible_date = PlausibleDate()


@functools.cache
def circulating_currencies() -> frozenset[str]:
    """ISO 4217 codes of the currencies legal tender somewhere today, from Babel's CLDR data: ``EUR``,
    ``USD``…, not ``XXX`` (no currency), ``XTS`` (testing) or ``ITL`` (withdrawn in 2002)."""
    from babel.core import get_global

    return frozenset(
        code
        for entries in get_global("territory_currencies").values()
        for code, _start, end, tender in entries
        if tender and end is None
    )


@deconstructible
class CurrencyCode:
    """A currency in circulation, by its ISO 4217 code (``EUR``; the services store it in capitals)."""

    message = _("Enter the ISO 4217 code of a currency in circulation, e.g. EUR.")
    code = "unknown_currency"

    def __call__(self, value):
        if not isinstance(value, str) or value.upper() not in circulating_currencies():
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, CurrencyCode)


currency_code = CurrencyCode()
