from django import forms
from django.utils.translation import gettext_lazy as _

from core.currency import currency_choices
from core.forms import StyledFormMixin
from customfields.forms import CustomFieldsFormMixin

from .models import Product, VatRate


class ProductForm(StyledFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    custom_fields_entity = "product"
    vat_rate = forms.TypedChoiceField(label=_("VAT rate"), choices=VatRate.choices, coerce=str)

    class Meta:
        model = Product
        fields = ["name", "code", "kind", "category", "unit_price", "currency", "vat_rate", "active", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].widget = forms.Select(choices=currency_choices(), attrs={"class": "form-select"})
        if self.instance.pk:
            self.initial["vat_rate"] = f"{self.instance.vat_rate:.2f}"
