"""The filter forms of the analytics reports that the shared ``ReportFilter`` does not cover."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import sees_everything, team_ids
from core.forms import StyledFormMixin

from .models import Metric, PeriodKind


class TargetFilterForm(StyledFormMixin, forms.Form):
    """Which targets the report shows: the month or quarter holding ``day``, one team or rep."""

    compact = True
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    day = forms.DateField(
        label=_("Period holding"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    owner = forms.ModelChoiceField(label=_("Rep"), queryset=get_user_model().objects.all(), required=False)
    metric = forms.ChoiceField(label=_("Metric"), choices=[("", _("Any")), *Metric.choices], required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and not sees_everything(user):
            teams = team_ids(user)
            self.fields["owner"].queryset = get_user_model().objects.filter(Q(pk=user.pk) | Q(team_id__in=teams))
            self.fields["team"].queryset = Team.objects.filter(pk__in=teams)
