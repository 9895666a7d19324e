from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.permissions import owner_choices
from contacts.models import Contact, Organization
from core.currency import currency_choices
from core.forms import StyledFormMixin
from core.widgets import AutocompleteSelect
from customfields.forms import CustomFieldsFormMixin
from pipeline.models import LostReason, Pipeline, Stage

from .models import Opportunity, OpportunityLine


def stage_choices():
    """Stages grouped by pipeline for a <select> with <optgroup>s."""
    groups = []
    for pipeline in Pipeline.objects.prefetch_related("stages"):
        groups.append((pipeline.display_name, [(s.pk, s.display_name) for s in pipeline.stages.all()]))
    return groups


class StageField(forms.TypedChoiceField):
    """A choice of stage, shown grouped by pipeline, cleaned to a Stage instance.

    The choices are what the page offers; any existing stage is accepted, because which stage a
    deal may enter (its own pipeline's) is the stage service's rule, with the same message on
    every face."""

    def __init__(self, **kwargs):
        super().__init__(coerce=self._to_stage, empty_value=None, **kwargs)

    def valid_value(self, value):
        return True  # _to_stage refuses a stage that does not exist

    @staticmethod
    def _to_stage(value):
        try:
            return Stage.objects.select_related("pipeline").get(pk=int(value))
        except (Stage.DoesNotExist, OverflowError):
            raise ValueError(value) from None


class OpportunityForm(StyledFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    custom_fields_entity = "deal"

    stage = StageField(label=_("Stage"))
    use_stage_probability = forms.BooleanField(label=_("Use the stage's default probability"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = [
        "name",
        "organization",
        "contact",
        "stage",
        "lost_reason",
        "lost_note",
        "amount",
        "currency",
        "expected_close_date",
        "probability",
        "use_stage_probability",
        "type",
        "lead_source",
        "next_step",
        "next_step_date",
        "owner",
        "description",
    ]

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "organization",
            "contact",
            "amount",
            "currency",
            "expected_close_date",
            "probability",
            "type",
            "lead_source",
            "next_step",
            "next_step_date",
            "owner",
            "description",
            "lost_reason",
            "lost_note",
        ]
        widgets = {
            "expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_step_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "currency": forms.Select(),
            "organization": AutocompleteSelect("contacts:organization_lookup"),
            "contact": AutocompleteSelect("contacts:contact_lookup", depends_on="organization"),
            "owner": AutocompleteSelect("accounts:owner_lookup"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["stage"].choices = stage_choices()
        self.lost_stage_ids = ",".join(
            str(pk) for pk in Stage.objects.filter(kind=Stage.Kind.LOST).values_list("pk", flat=True)
        )
        self.fields["organization"].queryset = Organization.objects.visible_to(user).active()
        self.fields["contact"].queryset = Contact.objects.visible_to(user).active().select_related("organization")
        self.fields["owner"].queryset = owner_choices(user, self.instance.owner_id)
        self.fields["lost_reason"].queryset = LostReason.objects.filter(active=True)
        self.fields["currency"].widget.choices = currency_choices()
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Leave empty to use the stage's default.")
        if self.instance.pk:
            # A deal changes stage within its pipeline (opportunities.services.stages).
            pipeline = self.instance.pipeline
            self.fields["stage"].choices = [(s.pk, s.display_name) for s in pipeline.stages.order_by("order")]
            self.fields["stage"].initial = self.instance.stage_id
            self.fields["version"].initial = self.instance.version
            self.fields["probability"].help_text = _("Stage default: %(p)s%%. Changing it keeps it on moves.") % {
                "p": self.instance.stage.probability
            }
        else:
            del self.fields["use_stage_probability"]
            del self.fields["version"]
            self.fields["owner"].initial = user.pk
            self.fields["owner"].required = False

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.is_lost and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Choose why the deal was lost."))
        return data

    def _post_clean(self):
        # The stage service sets status, probability and closing date; validate the rest here.
        stage = self.cleaned_data.get("stage")
        if stage is not None and (not self.instance.pipeline_id or stage.pipeline_id == self.instance.pipeline_id):
            self.instance.stage = stage  # another pipeline's stage: the stage service says no, as everywhere
        if self.instance.probability is None and self.cleaned_data.get("probability") is None:
            self.instance.probability = stage.probability if stage else 0
        super()._post_clean()

    def service_data(self) -> dict:
        """The cleaned values in the shape the opportunity services take."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in {"version", "use_stage_probability"}}
        if self.instance.pk:
            if data.get("probability") is None:
                data.pop("probability", None)
            if self.cleaned_data.get("use_stage_probability"):
                data["probability_is_manual"] = False
        return data


class MoveForm(StyledFormMixin, forms.Form):
    """Move a deal to another stage from its page (the board has its own drag and drop)."""

    stage = StageField(label=_("Move to"))
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.objects.filter(active=True), required=False, label=_("Lost reason")
    )
    lost_note = forms.CharField(max_length=300, required=False, label=_("Note"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        stages = list(opportunity.pipeline.stages.all())
        self.fields["stage"].choices = [(s.pk, s.display_name) for s in stages]
        self.lost_stage_ids = ",".join(str(s.pk) for s in stages if s.is_lost)
        self.fields["stage"].initial = opportunity.stage_id
        self.fields["lost_reason"].initial = opportunity.lost_reason_id
        self.fields["lost_note"].initial = opportunity.lost_note
        self.fields["version"].initial = opportunity.version

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.is_lost and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Choose why the deal was lost."))
        return data


class OpportunityLineForm(StyledFormMixin, forms.ModelForm):
    """A product line of a deal; an empty unit price takes the product's list price."""

    class Meta:
        model = OpportunityLine
        fields = ["product", "description", "quantity", "unit_price", "discount_percent"]

    def __init__(self, *args, opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        from products.selectors import product_choices

        self.fields["product"].queryset = product_choices(currency=opportunity.currency)
        self.fields["unit_price"].required = False
        self.fields["unit_price"].help_text = _("Leave empty to use the product's list price.")

    def clean(self):
        data = super().clean()
        if not data.get("product") and not data.get("description"):
            self.add_error("description", _("Choose a product or describe the line."))
        if data.get("unit_price") is None and not data.get("product"):
            self.add_error("unit_price", _("Enter a unit price or choose a product."))
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("unit_price") is None and data.get("product"):
            data["unit_price"] = data["product"].unit_price
        return data
