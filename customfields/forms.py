"""The custom fields of a record kind as form fields, with the widget each type needs.

Form fields are named ``custom_fields.<key>``: the service's errors carry the same names, so they
show on the field. ``clean()`` gathers them into ``cleaned_data["custom_fields"]`` for the service,
which validates them (the form only parses what a browser sends)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.currency import base_currency
from core.forms import LocalizedDecimalField

from .models import FieldType
from .selectors import definitions_for

PREFIX = "custom_fields."
YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


def _choices(definition, current):
    choices = list(definition.active_choices())
    keys = {k for k, _label in choices}
    for key in current if isinstance(current, list) else [current]:
        if key and key not in keys:  # a removed choice still on the record stays visible and kept
            choices.append((key, definition.choice_label(key)))
    return choices


def form_field(definition, current=None) -> forms.Field:
    """The form field of one definition; ``current`` is the record's stored value."""
    kwargs = {"label": definition.label, "required": definition.required, "help_text": definition.help_text}
    t = definition.type
    if t == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, **kwargs)
    if t == FieldType.INTEGER:
        return forms.IntegerField(**kwargs)
    if t in (FieldType.DECIMAL, FieldType.PERCENT):
        field = LocalizedDecimalField(**kwargs)
        field.widget = forms.TextInput(attrs={"inputmode": "decimal"})
        return field
    if t == FieldType.MONEY:
        currency = current.get("currency") if isinstance(current, dict) else base_currency()
        kwargs["help_text"] = " ".join(p for p in (str(kwargs["help_text"]), currency) if p)
        field = LocalizedDecimalField(**kwargs)
        field.widget = forms.TextInput(attrs={"inputmode": "decimal"})
        field.currency = currency
        return field
    if t == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)
    if t == FieldType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), **kwargs
        )
    if t == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=YES_NO, **kwargs)
    if t == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *_choices(definition, current)], **kwargs)
    if t == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=_choices(definition, current), widget=forms.CheckboxSelectMultiple, **kwargs
        )
    if t == FieldType.USER:
        users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        return forms.ModelChoiceField(queryset=users, **kwargs)
    widget = {
        FieldType.URL: forms.URLInput(),
        FieldType.EMAIL: forms.EmailInput(),
        FieldType.PHONE: forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    }.get(t, forms.TextInput())
    return forms.CharField(widget=widget, max_length=2000 if t == FieldType.URL else 255, **kwargs)


def initial_value(definition, value):
    """A stored value as the form field's initial value."""
    if value is None:
        return None
    t = definition.type
    if t == FieldType.MONEY and isinstance(value, dict):
        return value.get("amount")
    if t == FieldType.BOOLEAN:
        return "true" if value else "false"
    if t == FieldType.DATETIME and isinstance(value, str):
        try:
            return timezone.localtime(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def service_value(definition, field, value):
    """A cleaned form value in the shape the service validates."""
    if value in (None, "", []):
        return None
    if definition.type == FieldType.MONEY:
        return {"amount": str(value), "currency": getattr(field, "currency", None) or base_currency()}
    if definition.type in (FieldType.DECIMAL, FieldType.PERCENT):
        return str(value)
    if definition.type == FieldType.USER:
        return value.pk
    return value


class CustomFieldsFormMixin:
    """Adds the active custom fields of ``custom_fields_entity`` to a form; put it after
    ``StyledFormMixin`` in the bases so the fields are styled too."""

    custom_fields_entity: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        stored = (getattr(instance, "custom_fields", None) or {}) if instance is not None else {}
        self.custom_definitions = definitions_for(self.custom_fields_entity)
        for definition in sorted(self.custom_definitions, key=lambda d: (d.section, d.order, d.pk)):
            current = stored.get(definition.key)
            name = PREFIX + definition.key
            self.fields[name] = form_field(definition, current)
            if instance is not None and instance.pk:
                self.initial.setdefault(name, initial_value(definition, current))
            elif definition.default is not None:
                self.initial.setdefault(name, initial_value(definition, definition.default))
            self.fields[name].section = definition.section

    def clean(self):
        data = super().clean()
        if self.custom_definitions:
            values = {}
            for definition in self.custom_definitions:
                name = PREFIX + definition.key
                if name in data:
                    values[definition.key] = service_value(definition, self.fields[name], data.pop(name))
            data["custom_fields"] = values
        return data
