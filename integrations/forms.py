from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin

from .models import WebhookEvent


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"), help_text=_("What uses it, e.g. “ERP sync”."))
    read_only = forms.BooleanField(required=False, label=_("Read only"))
    expires_at = forms.DateTimeField(
        required=False,
        label=_("Expires"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for a token that does not expire."),
    )


class WebhookForm(StyledFormMixin, forms.Form):
    target_url = forms.URLField(
        max_length=500,
        label=_("Target URL"),
        assume_scheme="https",
        help_text=_("A public https address of your application, which receives a POST per event."),
    )
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )
    secret = forms.CharField(
        required=False,
        max_length=300,
        label=_("Secret"),
        help_text=_("Leave empty for a generated one (recommended). Your own: a whsec_ secret or 16+ characters."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].widget.attrs["class"] = "form-check-input"
