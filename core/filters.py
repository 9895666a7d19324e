import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from .forms import DASHES, StyledFormMixin, any_label
from .validators import plausible_date


class StyledFilterSet(django_filters.FilterSet):
    """A FilterSet whose form renders with the site's compact styles, for filter bars.

    Every date filter accepts only plausible dates (years 1900–2999, ``core.validators``): a
    report from year 1 to 9999 would overflow the date arithmetic and the time zone conversion,
    and no deal is dated there. An implausible date is a form error naming the filter (a 400 in
    the API), like any other bad value.

    A filter's form field is built once and cached on the filter (``Filter.field``). A FilterSet's
    ``filters`` are deep copies of the class's ``base_filters``, but anything that reads
    ``base_filters[name].field`` (drf-spectacular does, to document the API) caches a field on the
    *class* filter, which every later copy inherits: labels, choices and empty labels a subclass or
    an ``__init__`` sets on its copy were then ignored until the server restarted. Each instance
    drops that cache first and builds its fields from its own copy.

    A choice filter without an explicit ``empty_label`` says what its empty choice means ("Any
    type"), never Django's "---------"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            filter_.__dict__.pop("_field", None)
            choice = isinstance(filter_, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter)
            if choice and filter_.extra.get("empty_label", DASHES) == DASHES:
                filter_.extra["empty_label"] = (
                    _("Default order")
                    if isinstance(filter_, django_filters.OrderingFilter)
                    else any_label(filter_.label)
                )
            if isinstance(filter_, django_filters.DateFilter | django_filters.DateTimeFilter):
                validators = filter_.extra.get("validators", [])
                if plausible_date not in validators:
                    filter_.extra["validators"] = [*validators, plausible_date]

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
        if value is None:
            return None
        plausible_date(value)  # before converting: year 1 in UTC is out of Python's range
        return value.astimezone(datetime.UTC)


class PlausibleIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = PlausibleIsoDateTimeField


ID_MAX = 2**63 - 1  # a BigAutoField: beyond it SQLite overflows (a 500) and PostgreSQL refuses
ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX}


class IdField(forms.IntegerField):
    """A record id in a query string: a whole number from 1 to 2⁶³−1 (``1.5``, ``1e19`` and larger
    numbers are a form error naming the filter, a 400 in the API, never a database overflow)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """Filter by a related record's id (``?organization=12``), typed ``integer`` in the schema."""

    field_class = IdField
