from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"), help_text=_("What uses it, e.g. “ERP sync”."))
    read_only = forms.BooleanField(required=False, label=_("Read only"))
    expires_at = forms.DateTimeField(
        required=False,
        label=_("Expires"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for a token that does not expire."),
    )
