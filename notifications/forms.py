from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, Kind

SELECT = forms.Select(attrs={"class": "form-select"})


class PreferencesForm(forms.Form):
    """One channel per kind, and the hour of the daily digest."""

    digest_hour = forms.TypedChoiceField(
        label=_("Daily digest by e-mail"),
        choices=[("", _("No digest"))] + [(str(h), f"{h:02d}:00") for h in range(24)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=SELECT,
    )

    def __init__(self, *args, channels: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        channels = channels or {}
        for kind, label in Kind.choices:
            self.fields[f"kind_{kind}"] = forms.ChoiceField(
                label=label, choices=Channel.choices, initial=channels.get(kind, Channel.APP), widget=SELECT
            )
        self.order_fields([f"kind_{k}" for k in Kind.values] + ["digest_hour"])

    def channels(self) -> dict[str, str]:
        return {kind: self.cleaned_data[f"kind_{kind}"] for kind in Kind.values}
