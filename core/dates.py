"""Months, quarters and dates as the reader's language writes them (the API keeps ISO keys).

"nov 2026", "T4 2026" and "1 ott 2026" in Italian; "Nov 2026", "Q4 2026" and "Oct 1, 2026" in
English: babel's CLDR patterns for the active Django language.
"""

import datetime

from babel.dates import format_date, format_skeleton
from django.utils.translation import get_language, to_locale


def _locale() -> str:
    return to_locale(get_language() or "en")


def month_label(day: datetime.date) -> str:
    return format_skeleton("yMMM", day, locale=_locale())


def quarter_label(day: datetime.date) -> str:
    return format_skeleton("yQQQ", day, locale=_locale())


def date_label(day: datetime.date) -> str:
    return format_date(day, format="medium", locale=_locale())
