from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.permissions import owner_choices
from contacts.models import Contact, Organization
from core.forms import StyledFormMixin
from core.widgets import use_autocomplete
from opportunities.models import Opportunity

from .models import Activity

REMINDER_CHOICES = [
    ("", _("No reminder")),
    (0, _("When due")),
    (15, _("15 minutes before")),
    (30, _("30 minutes before")),
    (60, _("1 hour before")),
    (120, _("2 hours before")),
    (1440, _("1 day before")),
]
PARENTS = {"opportunity": Opportunity, "contact": Contact, "organization": Organization}


class ActivityForm(StyledFormMixin, forms.ModelForm):
    """An activity. The record it is about comes by id (from that record's page) and must be visible."""

    reminder_minutes = forms.TypedChoiceField(
        label=_("Reminder"), choices=REMINDER_CHOICES, coerce=int, empty_value=None, required=False
    )
    opportunity = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    organization = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Activity
        fields = ["kind", "subject", "due_at", "duration_minutes", "reminder_minutes", "owner", "notes"]
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = owner_choices(user, self.instance.owner_id)
        self.fields["owner"].required = False
        use_autocomplete(self.fields["owner"], "accounts:owner_lookup")
        if not self.instance.pk:
            self.fields["owner"].initial = user.pk
            self.fields["reminder_minutes"].initial = 30
        else:
            for name in PARENTS:
                self.fields[name].initial = getattr(self.instance, f"{name}_id")
        self.parent = None

    def clean(self):
        data = super().clean()
        for name, model in PARENTS.items():
            pk = data.get(name)
            if pk:
                record = model.objects.visible_to(self.user).filter(pk=pk).first()
                if record is None:
                    raise forms.ValidationError(_("The linked record does not exist or is not visible to you."))
                data[name] = record
                self.parent = self.parent or record
            else:
                data[name] = None
        return data

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
