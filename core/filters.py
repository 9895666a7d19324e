import datetime

import django_filters

from .forms import StyledFormMixin
from .validators import plausible_date


class StyledFilterSet(django_filters.FilterSet):
    """A FilterSet whose form renders with the site's compact styles, for filter bars."""

    def get_form_class(self):
        base = super().get_form_class()
        return type(f"Styled{base.__name__}", (StyledFormMixin, base), {"compact": True})


class PlausibleIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time limited to years 1900–2999, handed to the database in UTC.

    PostgreSQL refuses offsets beyond ±15:59 (``-18:12`` is valid to Python), which made a typo in
    ``updated_since`` a 500; converting to UTC first keeps any offset Python accepts.
    """

    default_validators = [plausible_date]

    def to_python(self, value):
        value = super().to_python(value)
        return value.astimezone(datetime.UTC) if value is not None else None


class PlausibleIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = PlausibleIsoDateTimeField
