"""English formats (FORMAT_MODULE_PATH): unambiguous day-first dates for an international audience.

Integrators reading the CRM in English are mostly European: 31 Dec 2026 cannot be misread, where
Django's default 12/31/2026 can. Anything not set here comes from Django's English module.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d M Y"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "d M Y H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d %b %Y", "%d %B %Y"]
FIRST_DAY_OF_WEEK = 1
