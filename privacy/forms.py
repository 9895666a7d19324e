from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin

from .models import Consent


class ConsentForm(StyledFormMixin, forms.Form):
    purpose = forms.CharField(label=_("Purpose"), max_length=100, help_text=_("e.g. marketing e-mail"))
    given = forms.TypedChoiceField(
        label=_("Consent"),
        choices=[("1", _("given")), ("0", _("withdrawn"))],
        coerce=lambda v: v == "1",
    )
    method = forms.ChoiceField(label=_("How"), choices=Consent.Method.choices, initial=Consent.Method.MANUAL)
    text = forms.CharField(label=_("Text agreed to"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    source = forms.CharField(label=_("Source"), max_length=200, required=False)


class RetentionForm(StyledFormMixin, forms.Form):
    retention_days = forms.IntegerField(
        label=_("Keep contacts with no activity for (days)"),
        min_value=0,
        max_value=36500,
        help_text=_("0 turns the review off."),
    )


class LegalHoldForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Why the data must be kept, e.g. the dispute or the audit."),
    )
