from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import sees_everything, team_ids
from core.forms import StyledFormMixin

from .models import Frequency, Metric, PeriodKind, ReportKind


class TargetForm(StyledFormMixin, forms.Form):
    """Set a target: a rep or a team, the month or quarter holding ``day``, a metric, a value."""

    owner = forms.ModelChoiceField(label=_("Rep"), queryset=get_user_model().objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.QUARTER)
    day = forms.DateField(
        label=_("Period holding"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Any day of the month or quarter."),
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    value = forms.DecimalField(label=_("Target"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("last_name", "first_name", "username")
        if sees_everything(user):
            self.fields["owner"].queryset = users
            self.fields["team"].queryset = Team.objects.order_by("name")
        else:
            teams = team_ids(user)
            self.fields["owner"].queryset = users.filter(team_id__in=teams)
            self.fields["team"].queryset = Team.objects.filter(pk__in=teams).order_by("name")

    def clean(self):
        data = super().clean()
        if bool(data.get("owner")) == bool(data.get("team")):
            self.add_error("owner", _("Choose either a rep or a team."))
        return data


class SubscriptionForm(StyledFormMixin, forms.Form):
    report = forms.ChoiceField(label=_("Report"), choices=ReportKind.choices, widget=forms.HiddenInput)
    params = forms.CharField(required=False, widget=forms.HiddenInput)
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices)
