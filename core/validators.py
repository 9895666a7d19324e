"""Validators shared by the models' fields, so forms, the API and imports refuse the same input."""

import datetime

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
