from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.permissions import sees_everything
from core.forms import StyledFormMixin

from .models import EmailTemplate, Mailbox


class MailboxForm(StyledFormMixin, forms.ModelForm):
    password = forms.CharField(
        label=_("password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the current one."),
    )
    shared = forms.BooleanField(
        label=_("Shared sales mailbox"), required=False, help_text=_("Administrators only: nobody owns it.")
    )

    class Meta:
        model = Mailbox
        fields = ["name", "host", "port", "tls_mode", "username", "folders", "active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not sees_everything(user):
            del self.fields["shared"]
        elif self.instance.pk:
            self.fields["shared"].initial = self.instance.owner_id is None
        if not self.instance.pk:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("Stored encrypted and never shown again.")


def _addresses(value: str) -> list[str]:
    addresses = [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]
    for address in addresses:
        try:
            validate_email(address)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                _("“%(address)s” is not a valid e-mail address.") % {"address": address}
            ) from exc
    return addresses


class ComposeForm(StyledFormMixin, forms.Form):
    to = forms.CharField(label=_("To"), max_length=2000, help_text=_("Separate addresses with commas."))
    cc = forms.CharField(label=_("Cc"), max_length=2000, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 12}))
    documents = forms.ModelMultipleChoiceField(
        label=_("Attach documents"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        if not documents.exists():
            del self.fields["documents"]

    def clean_to(self):
        addresses = _addresses(self.cleaned_data["to"])
        if not addresses:
            raise forms.ValidationError(_("Enter at least one recipient."))
        return addresses

    def clean_cc(self):
        return _addresses(self.cleaned_data.get("cc") or "")


class EmailTemplateForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "language", "subject", "body"]
        help_texts = {
            "body": _("Placeholders: {deal}, {contact}, {contact_first_name}, {organization}, {owner}."),
        }
