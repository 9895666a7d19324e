from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.permissions import sees_everything, team_ids
from activities.models import Activity
from core.forms import StyledFormMixin
from pipeline.models import LostReason, Stage

from .models import Rule, RuleAction


def _users(user):
    users = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if sees_everything(user):
        return users
    return users.filter(team_id__in=team_ids(user))


class RuleForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Rule
        fields = [
            "name",
            "enabled",
            "team",
            "trigger",
            "trigger_stage",
            "trigger_lost_reason",
            "trigger_field",
            "pipeline",
            "stage",
            "owner",
            "owner_team",
            "amount_min",
            "amount_max",
            "type",
            "lead_source",
            "custom_field",
            "custom_value",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if not sees_everything(user):
            teams = teams.filter(pk__in=team_ids(user))
            self.fields["team"].required = True
            self.fields["team"].empty_label = None
        self.fields["team"].queryset = teams
        self.fields["owner_team"].queryset = teams
        stages = Stage.objects.select_related("pipeline").order_by("pipeline__name", "order")
        self.fields["trigger_stage"].queryset = stages
        self.fields["stage"].queryset = stages
        self.fields["trigger_lost_reason"].queryset = LostReason.objects.order_by("name")
        self.fields["owner"].queryset = _users(user)
        self.fields["trigger_field"].help_text = _("For “a field changes”: owner, amount, next_step, probability…")
        self.fields["custom_field"].help_text = _("The key of a custom field of deals.")


class RuleActionForm(StyledFormMixin, forms.ModelForm):
    compact = True

    activity_kind = forms.ChoiceField(
        label=_("activity kind"), choices=[("", "—"), *Activity.Kind.choices], required=False
    )
    url = forms.URLField(label=_("webhook URL"), required=False, assume_scheme="https")

    class Meta:
        model = RuleAction
        fields = [
            "kind",
            "text",
            "activity_kind",
            "due_days",
            "recipient",
            "user",
            "field",
            "value",
            "stage",
            "url",
            "template",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _users(user)
        self.fields["stage"].queryset = Stage.objects.select_related("pipeline").order_by("pipeline__name", "order")
        self.fields["field"].help_text = _("owner, probability, next_step or custom:<key>")
        self.fields["kind"].required = False


RuleActionFormSet = inlineformset_factory(
    Rule, RuleAction, form=RuleActionForm, extra=2, can_delete=True, max_num=10, validate_max=True
)
