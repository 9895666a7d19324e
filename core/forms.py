from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, format_decimal, get_decimal_symbol, get_group_symbol, parse_decimal
from django import forms
from django.db.models.fields import BLANK_CHOICE_DASH
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext, to_locale
from django.utils.translation import gettext_lazy as _

DASHES = BLANK_CHOICE_DASH[0][1]  # Django's "---------"


def _any_label(label) -> str:
    text = str(label or "")
    if len(text) > 1 and not text[1].isupper():  # "Type" -> "type", but "VAT number" stays
        text = text[0].lower() + text[1:]
    return gettext("Any %(field)s") % {"field": text}


# The empty choice of a filter: "Any type", "Any owner" (translated when rendered).
any_label = lazy(_any_label, str)


def _babel_locale() -> str:
    return to_locale(get_language() or "en")


class LocalizedDecimalField(forms.DecimalField):
    """A decimal typed the way the user's language writes it: ``1.234,56`` in Italian, ``1,234.56``
    in English; ``1234,56`` and ``1234.56`` are understood in both.

    A text input with ``inputmode="decimal"`` (a browser's ``type=number`` refuses a comma in most
    locales). Django's own localized parsing drops thousands separators only when
    ``USE_THOUSAND_SEPARATOR`` is on, which would also print ids and years as ``1.234`` everywhere.
    """

    widget = forms.TextInput

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for numeric_only in ("min", "max", "step"):
            attrs.pop(numeric_only, None)
        attrs["inputmode"] = "decimal"
        return attrs

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            value = self._parse(value.strip().replace("\u00a0", "").replace(" ", ""))
        return super().to_python(value)

    @staticmethod
    def _parse(text: str) -> str:
        locale = _babel_locale()
        decimal, group = get_decimal_symbol(locale), get_group_symbol(locale)
        try:
            return str(parse_decimal(text, locale=locale, strict=True))
        except NumberFormatError:
            pass
        # One separator that the locale reads as grouping but that cannot be (1234.5 in Italian):
        # the user meant a decimal point, as a keyboard's numeric pad types it.
        if text.count(group) == 1 and decimal not in text and len(text.rsplit(group, 1)[1]) != 3:
            return text.replace(group, ".")
        return text  # DecimalField answers with its "Enter a number." error

    def prepare_value(self, value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            pattern = "0." + "0" * self.decimal_places if self.decimal_places else "0.##########"
            try:
                return format_decimal(Decimal(value), format=pattern, locale=_babel_locale())
            except (InvalidOperation, ValueError):
                return value
        return value


def _kept(widget) -> dict:
    """Attributes a form gave a number widget that still make sense on a text input."""
    return {k: v for k, v in widget.attrs.items() if k not in {"min", "max", "step", "type"}}


def _name_empty_choice(field) -> None:
    """Replace Django's "---------" empty choice with words: "Choose…" where a value is needed,
    "None" where the field may stay empty."""
    label = _("Choose…") if field.required else _("None")
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == DASHES:
            field.empty_label = label
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if any(value == "" and str(text) == DASHES for value, text in choices):
            field.choices = [(value, label if value == "" and str(text) == DASHES else text) for value, text in choices]


class StyledFormMixin:
    """Give every widget the Bootstrap class it needs, so templates can render ``{{ field }}``.

    ``compact`` forms (filter bars) use the small variants.
    """

    compact = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        size = "-sm" if self.compact else ""
        for field in self.fields.values():
            if type(field) is forms.DecimalField and not isinstance(field.widget, forms.HiddenInput):
                # Every amount, price, rate and percentage is typed in the user's number format. Same
                # field with a localized parser (no extra state), so its validators stay as they are.
                field.__class__ = LocalizedDecimalField
                field.widget = forms.TextInput(attrs={**field.widget_attrs(forms.TextInput()), **_kept(field.widget)})
            _name_empty_choice(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                css = f"form-select form-select{size}" if size else "form-select"
            elif isinstance(widget, forms.HiddenInput):
                continue
            else:
                css = f"form-control form-control{size}" if size else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
