"""The administrators' form for a custom field definition (the settings page)."""

import contextlib
import json

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin

from .models import CustomField, Entity, FieldType


def choices_as_text(choices) -> str:
    return "\n".join(
        f"{c['key']} | {c.get('label_it', '')} | {c.get('label_en', '')}" for c in choices or () if not c.get("removed")
    )


def choices_from_text(text: str) -> list[dict]:
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        key = parts[0]
        label_it = parts[1] if len(parts) > 1 and parts[1] else key
        label_en = parts[2] if len(parts) > 2 and parts[2] else label_it
        out.append({"key": key, "label_it": label_it, "label_en": label_en})
    return out


class CustomFieldForm(StyledFormMixin, forms.Form):
    entity = forms.ChoiceField(label=_("Record kind"), choices=Entity.choices)
    key = forms.CharField(
        label=_("Key"),
        max_length=36,
        help_text=_("Stable name used by the API, imports and exports: lowercase letters, digits and _."),
    )
    label_it = forms.CharField(label=_("Label (Italian)"), max_length=100)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: key | Italian label | English label. A choice left out is kept as removed, with its values."
        ),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    default = forms.CharField(label=_("Default"), required=False, max_length=255)
    help_text_it = forms.CharField(label=_("Help text (Italian)"), required=False, max_length=300)
    help_text_en = forms.CharField(label=_("Help text (English)"), required=False, max_length=300)
    section = forms.CharField(label=_("Section"), required=False, max_length=100)
    order = forms.IntegerField(label=_("Order"), min_value=0, initial=0)
    on_card = forms.BooleanField(label=_("Show on board cards"), required=False)
    in_list = forms.BooleanField(label=_("Show as a list column"), required=False)

    def __init__(self, *args, definition: CustomField | None = None, **kwargs):
        if definition is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{
                        f: getattr(definition, f)
                        for f in (
                            "entity",
                            "key",
                            "label_it",
                            "label_en",
                            "type",
                            "required",
                            "help_text_it",
                            "help_text_en",
                            "section",
                            "order",
                            "on_card",
                            "in_list",
                        )
                    },
                    "choices": choices_as_text(definition.choices),
                    "default": ""
                    if definition.default is None
                    else (
                        definition.default if isinstance(definition.default, str) else json.dumps(definition.default)
                    ),
                },
            )
        super().__init__(*args, **kwargs)
        if definition is not None:  # the key and the record kind never change: values are stored under them
            for name in ("entity", "key"):
                self.fields[name].disabled = True

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("entity", "key")}
        data["choices"] = choices_from_text(data.get("choices", ""))
        default = data.get("default")
        if default and default[:1] in "[{":
            with contextlib.suppress(ValueError):  # not JSON: the service says what is wrong with it
                default = json.loads(default)
        data["default"] = default or None
        return data
