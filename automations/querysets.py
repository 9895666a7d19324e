import json
import re

from django.db import models
from django.db.models import Q

from accounts.permissions import is_anonymous, sees_everything, team_ids

# A custom field named in a rule: its key, safe in a JSON lookup.
CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class RuleQuerySet(models.QuerySet):
    def editable_by(self, user):
        """Rules ``user`` may see and change: an admin, every rule; a manager, their teams' rules."""
        if is_anonymous(user):
            return self.none()
        if sees_everything(user):
            return self
        if user.is_manager:
            return self.filter(team_id__in=team_ids(user))
        return self.none()

    def visible_to(self, user):
        return self.editable_by(user)

    def active(self):
        return self.filter(enabled=True)


def rule_conditions_q(rule, prefix: str = "") -> Q:
    """The deals ``rule`` applies to, as a filter on Opportunity (``prefix``: the path to the deal
    from another model, ``"opportunity__"`` for activities). Used by the events, the periodic
    triggers and the preview alike, so they cannot disagree."""

    def f(**lookups):
        return Q(**{prefix + key: value for key, value in lookups.items()})

    q = f(archived_at__isnull=True)
    if rule.team_id:
        q &= f(owner__team_id=rule.team_id)
    if rule.pipeline_id:
        q &= f(pipeline_id=rule.pipeline_id)
    if rule.stage_id:
        q &= f(stage_id=rule.stage_id)
    if rule.owner_id:
        q &= f(owner_id=rule.owner_id)
    if rule.owner_team_id:
        q &= f(owner__team_id=rule.owner_team_id)
    if rule.amount_min is not None:
        q &= f(amount__gte=rule.amount_min)
    if rule.amount_max is not None:
        q &= f(amount__lte=rule.amount_max)
    if rule.type:
        q &= f(type=rule.type)
    if rule.lead_source:
        q &= f(lead_source=rule.lead_source)
    if rule.custom_field and CUSTOM_KEY.match(rule.custom_field):
        q &= f(**{f"custom_fields__{rule.custom_field}": _custom_value(rule.custom_value)})
    return q


def _custom_value(raw: str):
    """``"12"`` matches the number 12 and ``"true"`` the boolean of a custom field; other text, itself."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, int | float | bool) else raw
