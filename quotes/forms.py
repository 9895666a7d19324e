from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, Organization
from core.currency import currency_choices
from core.forms import StyledFormMixin
from core.widgets import use_autocomplete
from products.models import VatRate
from products.selectors import product_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuoteForm(StyledFormMixin, forms.Form):
    """The header of a quote. The customer is chosen on creation only (a deal's quote takes the deal's)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=Organization.objects.none(), required=False)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    currency = forms.ChoiceField(label=_("Currency"))
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    terms = forms.CharField(label=_("Terms and conditions"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, quote=None, **kwargs):
        if quote is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": quote.title,
                    "organization": quote.organization_id,
                    "contact": quote.contact_id,
                    "currency": quote.currency,
                    "valid_until": quote.valid_until,
                    "notes": quote.notes,
                    "terms": quote.terms,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = currency_choices()
        self.fields["organization"].queryset = Organization.objects.visible_to(user).active()
        self.fields["contact"].queryset = Contact.objects.visible_to(user).active()
        use_autocomplete(self.fields["organization"], "contacts:organization_lookup")
        use_autocomplete(self.fields["contact"], "contacts:contact_lookup", depends_on="organization")
        if quote is not None and quote.opportunity_id:
            del self.fields["organization"], self.fields["contact"], self.fields["currency"]

    def clean(self):
        data = super().clean()
        if "organization" in self.fields and not data.get("organization") and not data.get("contact"):
            self.add_error("organization", _("Choose an organization or a contact."))
        return data


class QuoteLineForm(StyledFormMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=None, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=2, min_value=0, required=False)
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=0, required=False
    )
    vat_rate = forms.TypedChoiceField(
        label=_("VAT"),
        choices=[("", _("Product's rate")), *VatRate.choices],
        coerce=Decimal,
        required=False,
        empty_value=None,
    )
    vat_exemption_note = forms.CharField(label=_("VAT exemption note"), max_length=200, required=False)

    def __init__(self, *args, quote, line=None, **kwargs):
        if line is not None:
            kwargs.setdefault(
                "initial",
                {
                    "product": line.product_id,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent,
                    "vat_rate": f"{line.vat_rate:.2f}",
                    "vat_exemption_note": line.vat_exemption_note,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = product_choices(currency=quote.currency)
        self.fields["quantity"].initial = 1

    def clean(self):
        data = super().clean()
        if not data.get("product") and not data.get("description"):
            self.add_error("description", _("Choose a product or describe the line."))
        if data.get("unit_price") is None and not data.get("product"):
            self.add_error("unit_price", _("Enter a unit price or choose a product."))
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal(0)
        return data


class AcceptForm(forms.Form):
    mark_deal_won = forms.BooleanField(label=_("Also mark the deal as won"), required=False)
