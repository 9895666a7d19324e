from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.permissions import owner_choices
from core.forms import StyledFormMixin
from core.widgets import use_autocomplete
from customfields.forms import CustomFieldsFormMixin

from .models import Contact, Organization


class OrganizationForm(StyledFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    custom_fields_entity = "organization"
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = [
            "name",
            "vat_number",
            "fiscal_code",
            "sdi_code",
            "pec",
            "sector",
            "website",
            "email",
            "phone",
            "employees",
            "annual_revenue",
            "founded_year",
            "street",
            "postal_code",
            "city",
            "province",
            "country",
            "parent",
            "owner",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Organization.objects.visible_to(user).active()
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["owner"].queryset = owner_choices(user, self.instance.owner_id)
        use_autocomplete(self.fields["parent"], "contacts:organization_lookup")
        use_autocomplete(self.fields["owner"], "accounts:owner_lookup")
        if not self.instance.pk:
            self.fields["owner"].initial = user.pk


class ContactForm(StyledFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    custom_fields_entity = "contact"

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "job_title", "organization", "email", "phone", "mobile", "owner", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.visible_to(user).active()
        self.fields["owner"].queryset = owner_choices(user, self.instance.owner_id)
        use_autocomplete(self.fields["organization"], "contacts:organization_lookup")
        use_autocomplete(self.fields["owner"], "accounts:owner_lookup")
        if not self.instance.pk:
            self.fields["owner"].initial = user.pk
