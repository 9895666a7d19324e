"""Reads for the rules pages: the list with each rule's last runs, one rule's log, the preview."""

import datetime

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from activities.models import Activity
from opportunities.models import Opportunity, OpportunityChange
from pipeline.models import StageChange

from .models import Rule, RuleAction, RuleRun, Trigger
from .querysets import rule_conditions_q

LAST_RUNS = 5
PREVIEW_DAYS = 30
PREVIEW_LIMIT = 50


def rule_list(*, user):
    """The rules ``user`` manages, each with its :data:`LAST_RUNS` newest runs (``last_runs``).
    A constant number of queries, whatever the number of rules and runs."""
    runs = RuleRun.objects.select_related("opportunity").order_by("-created_at", "-id")
    return (
        Rule.objects.editable_by(user)
        .select_related("team", "trigger_stage__pipeline", "trigger_lost_reason")
        .prefetch_related(
            Prefetch("actions", queryset=RuleAction.objects.select_related("stage__pipeline", "user")),
            Prefetch("runs", queryset=runs[:LAST_RUNS], to_attr="last_runs"),
        )
        .order_by("name", "id")
    )


def rule_get(*, user, pk: int) -> Rule:
    return Rule.objects.editable_by(user).get(pk=pk)


def rule_run_list(*, rule: Rule, limit: int = 50):
    return RuleRun.objects.filter(rule=rule).select_related("opportunity").order_by("-created_at", "-id")[:limit]


def rule_preview(*, user, rule: Rule, now: datetime.datetime | None = None):
    """The deals of the last :data:`PREVIEW_DAYS` days the rule would have fired for: its trigger
    happened to them in that time (as far as the history says) and its conditions hold today.
    Only deals ``user`` may see; at most :data:`PREVIEW_LIMIT`, newest first."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=PREVIEW_DAYS)
    deals = Opportunity.objects.visible_to(user).filter(rule_conditions_q(rule))
    trigger = rule.trigger
    if trigger == Trigger.CREATED:
        deals = deals.filter(created_at__gte=since)
    elif trigger == Trigger.STAGE_ENTERED:
        entered = StageChange.objects.filter(
            opportunity=OuterRef("pk"), to_stage_id=rule.trigger_stage_id, changed_at__gte=since
        )
        deals = deals.filter(Exists(entered))
    elif trigger in (Trigger.WON, Trigger.LOST):
        deals = deals.filter(status=trigger, closed_at__gte=since)
        if trigger == Trigger.LOST and rule.trigger_lost_reason_id:
            deals = deals.filter(lost_reason_id=rule.trigger_lost_reason_id)
    elif trigger == Trigger.FIELD_CHANGED:
        changed = OpportunityChange.objects.filter(
            opportunity=OuterRef("pk"), field=rule.trigger_field, changed_at__gte=since
        )
        deals = deals.filter(Exists(changed))
    elif trigger == Trigger.ROTTEN:
        deals = deals.filter(status="open", rots_at__gte=since, rots_at__lte=now)
    elif trigger == Trigger.ACTIVITY_OVERDUE:
        due = Activity.objects.filter(opportunity=OuterRef("pk"), done=False, due_at__gte=since, due_at__lte=now)
        deals = deals.filter(Exists(due))
    return deals.select_related("stage", "owner").order_by("-updated_at", "-id")[:PREVIEW_LIMIT]
