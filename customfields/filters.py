"""Filters on custom field values, for the lists, the board and the API: ``?cf_<key>=…``.

Parameters (``<key>`` is the definition's key):

- ``cf_<key>=v``: equals (a choice key; for a multiple choice, "has v"; yes/no: true/false);
- ``cf_<key>__in=a,b``: one of (choices);
- ``cf_<key>__min=`` / ``cf_<key>__max=``: a range, inclusive (numbers, money amounts, dates, times);
- ``cf_<key>__contains=text``: text, case-insensitive;
- ``cf_<key>__empty=true|false``: is empty / is not empty.

Filters exist only for the parameters a request sends (no query for the definitions otherwise). A
key that does not exist, an operator its type does not take or a bad value is a form error (400 in
the API) naming the parameter.

On PostgreSQL, equality on a choice (one or several keys) is written as JSON containment
(``custom_fields @> '{"settore": "pa"}'``), which the GIN ``jsonb_path_ops`` index of the table
answers without reading the other rows; SQLite compares the extracted value.
"""

import re

import django_filters
from django import forms
from django.db import connection
from django.db.models import DecimalField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from .models import FieldType
from .selectors import definition_get, definitions_for

PARAM = re.compile(r"^cf_([a-z][a-z0-9_]*?)(?:__(in|min|max|contains|empty))?$")
TEXT_TYPES = {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL, FieldType.PHONE}
NUMBER_TYPES = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.PERCENT, FieldType.MONEY}
RANGE_TYPES = NUMBER_TYPES | {FieldType.DATE, FieldType.DATETIME}


def _operators(definition) -> set[str]:
    t = definition.type
    ops = {"", "empty"}
    if t in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        ops |= {"in"}
    if t in RANGE_TYPES:
        ops |= {"min", "max"}
    if t in TEXT_TYPES:
        ops |= {"contains"}
    return ops


def _form_field(definition, op: str) -> forms.Field:
    t = definition.type
    label = definition.label
    if op == "empty":
        return forms.NullBooleanField(label=_("%(field)s is empty") % {"field": label})
    choices = [(c["key"], definition.choice_label(c["key"])) for c in definition.choices or ()]
    if op == "in":
        return forms.MultipleChoiceField(choices=choices, label=label)
    if t in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return forms.ChoiceField(choices=[("", _("Any"))] + choices, label=label, required=False)
    if t == FieldType.BOOLEAN:
        return forms.NullBooleanField(label=label)
    if t == FieldType.INTEGER and op == "":
        return forms.IntegerField(label=label)
    if t in NUMBER_TYPES:
        return forms.DecimalField(label=label)
    if t == FieldType.DATE:
        return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))
    if t == FieldType.DATETIME:
        return forms.DateTimeField(label=label)
    if t == FieldType.USER:
        return forms.IntegerField(label=label)
    return forms.CharField(label=label)


class _InWidget(forms.TextInput):
    """``a,b`` or repeated parameters, as a list."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [v.strip() for value in values if value for v in str(value).split(",") if v.strip()]


class CustomValueFilter(django_filters.Filter):
    def __init__(self, *, definition, op, **kwargs):
        self.definition, self.op = definition, op
        super().__init__(**kwargs)

    @property
    def field(self):
        if not hasattr(self, "_field"):
            self._field = _form_field(self.definition, self.op)
            if self.op == "in":
                self._field.widget = _InWidget()
        return self._field

    def filter(self, qs, value):
        if value in (None, "", [], ()):
            return qs
        return qs.filter(custom_q(self.definition, self.op, value))


def custom_filters(entity: str, params) -> dict[str, CustomValueFilter]:
    """The filters of the ``cf_`` parameters in ``params`` (unknown keys give a refusing filter)."""
    out = {}
    for name in params or ():
        match = PARAM.match(name)
        if not match:
            continue
        key, op = match.group(1), match.group(2) or ""
        definition = definition_get(entity, key)
        if definition is None or op not in _operators(definition):
            out[name] = UnknownFilter(field_name=name)
            continue
        out[name] = CustomValueFilter(definition=definition, op=op, field_name=name)
    return out


class _Refuse(forms.CharField):
    def clean(self, value):
        raise forms.ValidationError(_("There is no custom field filter with this name."))


class UnknownFilter(django_filters.Filter):
    field_class = _Refuse


def custom_q_from_param(entity: str, name: str, value) -> Q:
    """The condition of a validated ``cf_`` parameter (for DealFilters, which keeps only values)."""
    match = PARAM.match(name)
    definition = definition_get(entity, match.group(1)) if match else None
    if definition is None:
        raise ValueError(f"unknown custom field filter {name!r}")
    return custom_q(definition, match.group(2) or "", value)


def _key_text(key: str, *path):
    return KT("__".join(("custom_fields", key, *path)))


def custom_q(definition, op: str, value) -> Q:
    """The condition of one custom field filter on a record table."""
    key, t = definition.key, definition.type
    postgres = connection.vendor == "postgresql"
    if op == "empty":
        has = Q(custom_fields__has_key=key)
        return ~has if value else has
    if op == "in" or (op == "" and t in (FieldType.CHOICE, FieldType.MULTI_CHOICE)):
        keys = value if isinstance(value, list) else [value]
        q = Q()
        for choice in keys:
            if postgres:  # containment: answered by the GIN jsonb_path_ops index
                wanted = [choice] if t == FieldType.MULTI_CHOICE else choice
                q |= Q(custom_fields__contains={key: wanted})
            elif t == FieldType.MULTI_CHOICE:
                q |= Q(**{f"custom_fields__{key}__icontains": f'"{choice}"'})
            else:
                q |= Q(**{f"custom_fields__{key}": choice})
        return q
    if op == "contains":
        return Q(**{f"custom_fields__{key}__icontains": value})
    if op in ("min", "max"):
        lookup = "gte" if op == "min" else "lte"
        if t in NUMBER_TYPES:
            text = _key_text(key, "amount") if t == FieldType.MONEY else _key_text(key)
            return _compare(Cast(text, DecimalField(max_digits=30, decimal_places=10)), lookup, value)
        if t == FieldType.DATE:
            return _compare(_key_text(key), lookup, value.isoformat())
        if t == FieldType.DATETIME:
            from .types import value_clean

            return _compare(_key_text(key), lookup, value_clean(definition, value))
    if t == FieldType.BOOLEAN:
        return (
            Q(custom_fields__contains={key: bool(value)}) if postgres else Q(**{f"custom_fields__{key}": bool(value)})
        )
    if t in NUMBER_TYPES:
        text = _key_text(key, "amount") if t == FieldType.MONEY else _key_text(key)
        return _compare(Cast(text, DecimalField(max_digits=30, decimal_places=10)), "exact", value)
    if t == FieldType.DATE:
        return _compare(_key_text(key), "exact", value.isoformat())
    if postgres:
        return Q(custom_fields__contains={key: value})
    return Q(**{f"custom_fields__{key}": value})


def _compare(expression, lookup: str, value) -> Q:
    from django.db.models import lookups

    classes = {"gte": lookups.GreaterThanOrEqual, "lte": lookups.LessThanOrEqual, "exact": lookups.Exact}
    return Q(classes[lookup](expression, value))


# --- sorting by a custom field: ``?ordering=cf_<key>`` (``-cf_<key>`` descending), empty values last


def sort_expression(definition):
    """What a list is sorted by for ``definition``: numbers and money amounts as numbers, dates and
    times as their ISO text (which sorts as they do), text case-insensitively, a single choice in the
    order the administrator gave its choices, a user by name."""
    from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
    from django.db.models.functions import Concat, Lower

    key, t = definition.key, definition.type
    if t in NUMBER_TYPES:
        text = _key_text(key, "amount") if t == FieldType.MONEY else _key_text(key)
        return Cast(text, DecimalField(max_digits=30, decimal_places=10))
    if t == FieldType.CHOICE:
        choices = enumerate(definition.choices or ())
        whens = [When(Q(**{f"custom_fields__{key}": c["key"]}), then=Value(i)) for i, c in choices]
        return Case(*whens, default=Value(None), output_field=IntegerField()) if whens else _key_text(key)
    if t == FieldType.USER:
        from accounts.models import User

        names = User.objects.filter(pk=Cast(OuterRef(f"custom_fields__{key}"), IntegerField()))
        name = Lower(Concat("last_name", Value(" "), "first_name", Value(" "), "username"))
        return Subquery(names.annotate(sort_name=name).values("sort_name")[:1])
    if t in (FieldType.DATE, FieldType.DATETIME, FieldType.BOOLEAN):
        return _key_text(key)
    return Lower(_key_text(key))


class CustomOrderingFilter(django_filters.OrderingFilter):
    """An OrderingFilter that also sorts by the custom fields of a record kind (``cf_<key>``)."""

    def __init__(self, *args, custom=None, **kwargs):
        self.custom = custom or {}
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        definition = self.custom.get(param[1:] if descending else param)
        if definition is None:
            return super().get_ordering_value(param)
        expression = sort_expression(definition)
        return expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)


def custom_ordering(entity: str, ordering: django_filters.OrderingFilter | None) -> CustomOrderingFilter:
    """``ordering`` (a FilterSet's own, or none) extended with the active custom fields of ``entity``."""
    from .selectors import definitions_for

    custom = {f"cf_{d.key}": d for d in definitions_for(entity) if d.type != FieldType.MULTI_CHOICE}
    own = dict(ordering.param_map) if ordering is not None else {}
    labels = {}
    if ordering is not None:
        labels = dict(ordering.extra.get("field_labels") or {})
    fields = [(field, param) for param, field in own.items()] + [(name, name) for name in custom]
    labels.update({name: d.label for name, d in custom.items()})
    return CustomOrderingFilter(
        fields=fields,
        field_labels=labels,
        custom=custom,
        label=ordering.label if ordering is not None else _("Order by"),
    )


class CustomFieldsFilterMixin:
    """Put before the FilterSet's base: its ``cf_`` filters (only the parameters sent) and its
    ``ordering`` by custom fields (``cf_<key>``). ``custom_fields_entity`` names the record kind."""

    custom_fields_entity = ""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        entity = self.custom_fields_entity
        self.filters.update(custom_filters(entity, data))
        # Every single-choice field is offered in the filter form of the pages (board and lists),
        # asked for or not; the API filters by what is sent, and reads no definition otherwise.
        for definition in [] if isinstance(self.request, Request) else definitions_for(entity):
            name = f"cf_{definition.key}"
            if definition.type == FieldType.CHOICE and name not in self.filters:
                self.filters[name] = CustomValueFilter(definition=definition, op="", field_name=name)
        values = data.getlist("ordering") if hasattr(data, "getlist") else [(data or {}).get("ordering")]
        asks = any(str(part).lstrip("-").startswith("cf_") for v in values if v for part in str(v).split(","))
        if asks:  # only then: the filter form of every other page stays as it was
            self.filters["ordering"] = custom_ordering(entity, self.filters.get("ordering"))
            self.filters["ordering"].model = self._meta.model
            self.filters["ordering"].parent = self
