"""The manager's form that builds a web form, and the visitor's form built from it."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from contacts.validators import validate_vat_number, vat_number_canonical
from core.forms import StyledFormMixin
from opportunities.models import LeadSource
from pipeline.models import Pipeline, Stage

from .models import FIELD_LABELS, FIELD_NAMES, WebForm

# Longest value each visitor field takes; more is a form error naming the field, never a 500.
MAX_LENGTHS = {"name": 200, "email": 254, "phone": 40, "company": 200, "vat_number": 20, "message": 5000}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
HONEYPOT = "website"  # a field people never see; bots fill in anything called "website"
_PHONE = re.compile(r"^\+?[\d\s().\-/]{6,40}$")


class _WebFormFields(forms.ModelForm):
    """Build or change a web form. ``<field>_shown`` / ``<field>_required`` become ``fields``."""

    class Meta:
        model = WebForm
        fields = [
            "name",
            "slug",
            "active",
            "language",
            "pipeline",
            "stage",
            "deal_name_pattern",
            "lead_source",
            "thank_you_text",
            "redirect_url",
            "allowed_origins",
            "consent_text",
            "consent_version",
            "assignment",
            "assignee",
            "team",
            "min_fill_seconds",
            "check_mail_domain",
        ]
        widgets = {
            "thank_you_text": forms.Textarea(attrs={"rows": 2}),
            "allowed_origins": forms.Textarea(attrs={"rows": 3}),
            "consent_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["lead_source"] = forms.ChoiceField(label=_("lead source"), choices=LeadSource.choices)
        self.fields["pipeline"].queryset = Pipeline.objects.all()
        self.fields["stage"].queryset = Stage.objects.filter(kind=Stage.Kind.OPEN).select_related("pipeline")
        self.fields["assignee"].queryset = User.objects.filter(is_active=True)
        self.fields["team"].queryset = Team.objects.all()
        spec = self.instance.fields if self.instance and self.instance.fields else {}
        for name in FIELD_NAMES:
            self.fields[f"{name}_shown"] = forms.BooleanField(
                label=FIELD_LABELS[name], required=False, initial=spec.get(name, {}).get("shown", False)
            )
            self.fields[f"{name}_required"] = forms.BooleanField(
                label=_("required"), required=False, initial=spec.get(name, {}).get("required", False)
            )

    def field_rows(self):
        return [(self[f"{name}_shown"], self[f"{name}_required"]) for name in FIELD_NAMES]

    def clean_allowed_origins(self):
        lines = [line.strip().rstrip("/") for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]
        for line in lines:
            if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?", line):
                raise ValidationError(
                    _("%(value)s is not an origin: write the scheme and host only, e.g. https://www.example.com.")
                    % {"value": line}
                )
        return "\n".join(lines)

    def clean(self):
        data = super().clean()
        spec = {
            name: {"shown": bool(data.get(f"{name}_shown")), "required": bool(data.get(f"{name}_required"))}
            for name in FIELD_NAMES
        }
        spec["email"] = {"shown": True, "required": True}  # the contact is found by it
        data["fields"] = spec
        return data


def _phone(value: str) -> str:
    if value and not _PHONE.match(value):
        raise ValidationError(_("Enter a phone number with digits only (and +, spaces, dashes)."))
    return value


def _vat(value: str) -> str:
    if not value:
        return ""
    canonical = vat_number_canonical(value)
    validate_vat_number(canonical)
    return canonical


class _SubmissionFields(forms.Form):
    """What a visitor sends. Fields are added for the ones the web form shows (``for_webform``)."""

    token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)
    page_url = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    website = forms.CharField(required=False, max_length=500, label=_("Leave this empty"))

    def __init__(self, *args, webform: WebForm, **kwargs):
        super().__init__(*args, **kwargs)
        self.webform = webform
        for name in webform.shown_fields():
            required = webform.is_required(name)
            label = FIELD_LABELS[name]
            if name == "email":
                field = forms.EmailField(label=label, required=True, max_length=MAX_LENGTHS[name])
                field.widget.attrs["autocomplete"] = "email"
            elif name == "message":
                textarea = forms.Textarea(attrs={"rows": 4})
                field = forms.CharField(label=label, required=required, max_length=MAX_LENGTHS[name], widget=textarea)
            else:
                field = forms.CharField(label=label, required=required, max_length=MAX_LENGTHS[name])
            if name == "phone":
                field.validators.append(_phone)
                field.widget.input_type = "tel"
                field.widget.attrs["autocomplete"] = "tel"
            if name == "name":
                field.widget.attrs["autocomplete"] = "name"
            if name == "company":
                field.widget.attrs["autocomplete"] = "organization"
            self.fields[name] = field
        if "email" not in self.fields:
            self.fields["email"] = forms.EmailField(label=FIELD_LABELS["email"], max_length=254)
        if webform.consent_text:
            self.fields["consent"] = forms.BooleanField(label=webform.consent_text, required=True)
        for key in UTM_KEYS:
            self.fields[key] = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
        self.fields[HONEYPOT].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_vat_number(self):
        return _vat(self.cleaned_data.get("vat_number", "").strip())

    def visitor_fields(self) -> dict:
        """The visitor's answers, stripped, only the fields this form asks for."""
        return {name: (self.cleaned_data.get(name) or "").strip() for name in FIELD_NAMES if name in self.fields}

    def visible_fields_for_page(self):
        skip = {HONEYPOT, "token", "page_url", *UTM_KEYS}
        return [self[name] for name in self.fields if name not in skip]


class WebFormForm(StyledFormMixin, _WebFormFields):
    pass


class SubmissionForm(StyledFormMixin, _SubmissionFields):
    pass
