"""Automation rules: saving them, and the engine that runs them.

The engine runs in the worker, never in a request: the outbox hands it the deal events the deal
and stage services emit (``opportunity.created``, ``.stage_changed``, ``.won``, ``.lost``,
``.updated``), and a periodic task (:func:`rules_time_based`) finds deals gone rotten and
activities fallen due, one query per rule over indexed columns.

* **Once per event.** Each firing writes a :class:`RuleRun` unique on ``(rule, event)``: an event
  delivered twice fires a rule once; a rotting episode (``rots_at``) or a due time fires once.
* **No loops.** While a rule's actions run, the events they emit carry the request id
  ``rule-run-<run id>``; a rule never fires on an event its own actions caused (same deal), and a
  chain of rules stops at :data:`MAX_DEPTH`, each recorded in the run log.
* **A fault stays in its rule.** Each action runs in a savepoint; one that fails (a webhook answering
  500, a refused change) is rolled back, recorded in the run with its error, and ends that rule's
  run; the other rules still fire.
* **Acts as its author.** Every action goes through the services as the rule's ``created_by``,
  which check that user may change the deal; stages change only through ``opportunity_move_stage``.
"""

import datetime
import logging
import re

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import assignable_owners, sees_everything, team_ids
from activities.models import Activity
from activities.services import activity_create
from core.exceptions import ValidationError
from core.logs import request_id_reset, request_id_set
from integrations.webhooks import webhook_post
from mail.services import email_compose, template_fill
from notifications.models import Kind
from notifications.services import notify
from opportunities.events import opportunity_payload
from opportunities.models import Opportunity, Status
from opportunities.services import opportunity_move_stage, opportunity_update

from .models import ActionKind, Recipient, Rule, RuleAction, RuleRun, RunStatus, Trigger
from .querysets import CUSTOM_KEY as _KEY
from .querysets import rule_conditions_q

logger = logging.getLogger(__name__)

# A chain of rules (rule A's action fires rule B, whose action fires C...) stops at this depth.
MAX_DEPTH = 3
# How far back the periodic triggers look (a worker down for a day still fires; a rule created
# today does not fire for every deal that rotted last year).
TIME_WINDOW = datetime.timedelta(days=1)
# Fields a "set a field" action may change (plus custom fields, ``custom:<key>``).
SETTABLE_FIELDS = ("owner", "probability", "next_step")
CUSTOM_PREFIX = "custom:"
_RUN_REQUEST = re.compile(r"^rule-run-(\d+)$")

EVENT_TRIGGERS = {
    "opportunity.created": Trigger.CREATED,
    "opportunity.stage_changed": Trigger.STAGE_ENTERED,
    "opportunity.won": Trigger.WON,
    "opportunity.lost": Trigger.LOST,
    "opportunity.updated": Trigger.FIELD_CHANGED,
}


class ActionFailed(Exception):
    """An action could not be done; its message goes to the run log."""


# --- saving rules ----------------------------------------------------------------------------------


def rule_team_check(user, team) -> None:
    """Managers define rules for their own teams; administrators for any team or for everyone."""
    if sees_everything(user):
        return
    if not getattr(user, "is_manager", False):
        raise ValidationError({"team": _("Only managers and administrators define automation rules.")})
    if team is None or team.pk not in team_ids(user):
        raise ValidationError({"team": _("Choose one of your teams.")})


def rule_action_check(rule: Rule, action: RuleAction, *, author) -> None:
    """What each kind of action needs, named by field."""
    kind = action.kind
    if kind == ActionKind.CREATE_ACTIVITY:
        if not action.text.strip():
            raise ValidationError({"text": _("Give the activity a subject.")})
        if action.activity_kind and action.activity_kind not in Activity.Kind.values:
            raise ValidationError({"activity_kind": _("Choose a kind of activity.")})
        if action.recipient == Recipient.MANAGER:
            raise ValidationError({"recipient": _("An activity is for the deal's owner or a user named.")})
    if kind in (ActionKind.CREATE_ACTIVITY, ActionKind.NOTIFY) and action.recipient == Recipient.USER:
        if action.user is None:
            raise ValidationError({"user": _("Choose the user.")})
        if kind == ActionKind.CREATE_ACTIVITY and not assignable_owners(author).filter(pk=action.user.pk).exists():
            raise ValidationError({"user": _("You may not give activities to this user.")})
    if kind == ActionKind.SET_FIELD:
        field = action.field
        if field.startswith(CUSTOM_PREFIX):
            if not _KEY.match(field[len(CUSTOM_PREFIX) :]):
                raise ValidationError({"field": _("Name a custom field by its key, as custom:key.")})
        elif field not in SETTABLE_FIELDS:
            raise ValidationError({"field": _("Choose owner, probability, next_step or custom:<key>.")})
        if field == "owner":
            if action.user is None:
                raise ValidationError({"user": _("Choose the new owner.")})
            if not assignable_owners(author).filter(pk=action.user.pk).exists():
                raise ValidationError({"user": _("You may not give deals to this user.")})
        if field == "probability" and not (action.value.isdigit() and 0 <= int(action.value) <= 100):
            raise ValidationError({"value": _("A probability is a whole number from 0 to 100.")})
    if kind == ActionKind.MOVE_STAGE and action.stage is None:
        raise ValidationError({"stage": _("Choose the stage.")})
    if kind == ActionKind.WEBHOOK and not action.url:
        raise ValidationError({"url": _("Enter the webhook's URL.")})
    if kind == ActionKind.SEND_EMAIL and action.template is None:
        raise ValidationError({"template": _("Choose the e-mail template.")})


@transaction.atomic
def rule_save(*, user, rule: Rule | None = None, actions: list[RuleAction] | None = None, **fields) -> Rule:
    """Create or change a rule (and replace its actions when ``actions`` is given, in that order).
    A manager may only save rules of their teams; the rule acts as whoever created it."""
    if rule is not None and not Rule.objects.editable_by(user).filter(pk=rule.pk).exists():
        raise ValidationError({"team": _("You may not change this rule.")})
    rule = rule or Rule(created_by=user)
    for name, value in fields.items():
        setattr(rule, name, value)
    rule_team_check(user, rule.team)
    if rule.trigger == Trigger.STAGE_ENTERED and rule.trigger_stage is None:
        raise ValidationError({"trigger_stage": _("Choose the stage.")})
    if rule.trigger == Trigger.FIELD_CHANGED and not rule.trigger_field:
        raise ValidationError({"trigger_field": _("Name the field.")})
    if rule.custom_field and not _KEY.match(rule.custom_field):
        raise ValidationError({"custom_field": _("Name a custom field by its key.")})
    if rule.amount_min is not None and rule.amount_max is not None and rule.amount_min > rule.amount_max:
        raise ValidationError({"amount_max": _("The largest amount is smaller than the smallest.")})
    rule.full_clean(exclude=["created_by"])
    rule.save()
    if actions is not None:
        for action in actions:
            rule_action_check(rule, action, author=rule.created_by)
        rule.actions.all().delete()
        for position, action in enumerate(actions):
            action.pk, action.rule, action.position = None, rule, position
            action.full_clean()
            action.save()
    return rule


def rule_enable(*, user, rule: Rule, enabled: bool) -> Rule:
    """Switch a rule on or off."""
    if not Rule.objects.editable_by(user).filter(pk=rule.pk).exists():
        raise ValidationError({"team": _("You may not change this rule.")})
    Rule.objects.filter(pk=rule.pk).update(enabled=enabled, updated_at=timezone.now())
    rule.enabled = enabled
    return rule


def rule_delete(*, user, rule: Rule) -> None:
    if not Rule.objects.editable_by(user).filter(pk=rule.pk).exists():
        raise ValidationError({"team": _("You may not change this rule.")})
    rule.delete()


# --- the engine ------------------------------------------------------------------------------------


def _origin(event) -> tuple[int, list[int]]:
    """How deep in a chain of rules ``event`` is, and which rules led to it."""
    match = _RUN_REQUEST.match(event.request_id or "")
    if not match:
        return 0, []
    parent = RuleRun.objects.filter(pk=int(match.group(1))).values("depth", "chain", "rule_id").first()
    if parent is None:
        return 0, []
    return parent["depth"] + 1, [*parent["chain"], parent["rule_id"]]


def rules_on_event(event) -> int:
    """Fire the enabled rules this deal event triggers (outbox handler). Returns how many fired."""
    trigger = EVENT_TRIGGERS.get(event.topic)
    payload = event.payload
    deal = payload.get("opportunity") or {}
    if trigger is None or not deal.get("id"):
        return 0
    rules = Rule.objects.active().filter(trigger=trigger)
    if trigger == Trigger.STAGE_ENTERED:
        rules = rules.filter(trigger_stage_id=payload.get("to_stage"))
    elif trigger == Trigger.LOST:
        rules = rules.filter(Q(trigger_lost_reason__isnull=True) | Q(trigger_lost_reason_id=deal.get("lost_reason")))
    elif trigger == Trigger.FIELD_CHANGED:
        rules = rules.filter(trigger_field__in=payload.get("changed_fields") or [])
    rules = list(rules.select_related("created_by").prefetch_related("actions"))
    if not rules:
        return 0
    depth, chain = _origin(event)
    fired = 0
    for rule in rules:
        fired += bool(rule_fire(rule, event=f"event:{event.pk}", opportunity_id=deal["id"], depth=depth, chain=chain))
    return fired


def rule_fire(
    rule: Rule,
    *,
    event: str,
    opportunity_id: int,
    depth: int = 0,
    chain: list[int] | None = None,
    activity: Activity | None = None,
    episode: datetime.datetime | None = None,
) -> RuleRun | None:
    """Fire ``rule`` for one event on one deal, if its conditions hold and it has not fired for
    this event yet. Returns the run (the log row), or None."""
    chain = chain or []
    deal = (
        Opportunity.objects.filter(rule_conditions_q(rule), pk=opportunity_id)
        .select_related("owner__team__manager", "contact", "organization", "stage")
        .first()
    )
    if deal is None:
        return None
    run = RuleRun(
        rule=rule,
        event=event[:100],
        opportunity=deal,
        activity=activity,
        episode=episode,
        depth=depth,
        chain=chain,
    )
    if rule.pk in chain:
        run.status, run.error = RunStatus.SKIPPED, _("Caused by this rule's own action on this deal: not run again.")
    elif depth >= MAX_DEPTH:
        run.status, run.error = RunStatus.STOPPED, _("A chain of %(n)d rules: stopped here.") % {"n": depth + 1}
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:  # this rule already fired for this event
        return None
    if run.status != RunStatus.DONE:
        logger.info("Rule %s on deal %s: %s", rule.pk, deal.pk, run.status)
        return run
    done = []
    token = request_id_set(f"rule-run-{run.pk}")
    try:
        for number, action in enumerate(rule.actions.all(), start=1):
            try:
                with transaction.atomic():
                    done.append(_action_run(action, rule=rule, deal=deal, run=run))
                # A stage move or an owner change makes the deal we hold stale: read it again.
                if action.kind in (ActionKind.MOVE_STAGE, ActionKind.SET_FIELD):
                    deal = Opportunity.objects.select_related(
                        "owner__team__manager", "contact", "organization", "stage"
                    ).get(pk=deal.pk)
            except Exception as exc:  # noqa: BLE001 (every failure of an action is the run's, not the event's)
                run.status = RunStatus.FAILED
                run.error = f"{number}. {action.get_kind_display()}: {_message(exc)}"[:2000]
                logger.warning("Rule %s action %s on deal %s failed: %s", rule.pk, action.pk, deal.pk, run.error)
                break
    finally:
        request_id_reset(token)
    run.result = "\n".join(done)
    run.save(update_fields=["status", "result", "error"])
    return run


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError | ActionFailed):
        detail = getattr(exc, "message_dict", None) or getattr(exc, "messages", None) or [str(exc)]
        if isinstance(detail, dict):
            return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in detail.items())
        return " ".join(map(str, detail))
    return f"{type(exc).__name__}: {exc}"


def _action_run(action: RuleAction, *, rule: Rule, deal: Opportunity, run: RuleRun) -> str:
    """Do one action; returns a line for the run log (raises on failure)."""
    author = rule.created_by
    now = timezone.now()
    if action.kind == ActionKind.CREATE_ACTIVITY:
        owner = action.user if action.recipient == Recipient.USER else deal.owner
        activity = activity_create(
            user=author,
            subject=action.text,
            kind=action.activity_kind or Activity.Kind.TASK,
            due_at=now + datetime.timedelta(days=action.due_days or 0),
            owner=owner,
            opportunity=deal,
        )
        return _("Activity “%(subject)s” for %(owner)s") % {"subject": activity.subject, "owner": owner}
    if action.kind == ActionKind.NOTIFY:
        if action.recipient == Recipient.USER:
            users = [action.user]
        elif action.recipient == Recipient.MANAGER:
            team = deal.owner.team
            users = [team.manager] if team and team.manager else []
        else:
            users = [deal.owner]
        text = f"{action.text or rule.name}: {deal.name}"
        told = [
            user
            for user in users
            if user and notify(user, Kind.RULE, text=text, record=deal, key=f"rule:{run.pk}:{action.pk}")
        ]
        return _("Notified: %(users)s") % {"users": ", ".join(str(u) for u in told) or "—"}
    if action.kind == ActionKind.SET_FIELD:
        field = action.field
        if field == "owner":
            data = {"owner": action.user}
        elif field == "probability":
            data = {"probability": int(action.value)}
        elif field.startswith(CUSTOM_PREFIX):
            data = {"custom_fields": {field[len(CUSTOM_PREFIX) :]: action.value}}
        else:
            data = {field: action.value}
        opportunity_update(opportunity=deal.pk, user=author, data=data)
        return _("%(field)s set to %(value)s") % {
            "field": field,
            "value": action.user if field == "owner" else action.value,
        }
    if action.kind == ActionKind.MOVE_STAGE:
        opportunity_move_stage(opportunity=deal.pk, stage=action.stage, user=author)
        return _("Moved to %(stage)s") % {"stage": action.stage}
    if action.kind == ActionKind.WEBHOOK:
        body = {
            "rule": {"id": rule.pk, "name": rule.name},
            "event": run.event,
            "opportunity": opportunity_payload(deal),
        }
        status, excerpt = webhook_post(action.url, body)
        if not 200 <= status < 300:
            raise ActionFailed(_("The webhook answered %(status)s %(body)s") % {"status": status, "body": excerpt})
        return _("Webhook answered %(status)s") % {"status": status}
    if action.kind == ActionKind.SEND_EMAIL:
        contact = deal.contact
        if contact is None or not contact.email:
            raise ActionFailed(_("The deal has no contact with an e-mail address."))
        template = action.template
        email = email_compose(
            user=author,
            to=[contact.email],
            subject=template_fill(template.subject, opportunity=deal, contact=contact),
            body=template_fill(template.body, opportunity=deal, contact=contact),
            opportunity=deal,
            contact=contact,
        )
        return _("E-mail “%(subject)s” to %(to)s") % {"subject": email.subject, "to": contact.email}
    raise ActionFailed(f"Unknown action {action.kind}")


def rules_time_based(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The periodic triggers (beat): deals gone rotten and activities fallen due since the last
    sweep, for each enabled rule. One query per rule over the indexed ``rots_at`` (``opp_rots_at_idx``)
    or the activities' due time, skipping what the rule already fired for (the episode's time).
    Safe to run twice. Returns how many runs it wrote."""
    now = now or timezone.now()
    since = now - TIME_WINDOW
    fired = 0
    rules = Rule.objects.active().filter(trigger__in=(Trigger.ROTTEN, Trigger.ACTIVITY_OVERDUE))
    for rule in rules.select_related("created_by").prefetch_related("actions"):
        start = max(since, rule.created_at)
        if rule.trigger == Trigger.ROTTEN:
            deals = (
                Opportunity.objects.filter(rule_conditions_q(rule))
                .filter(status=Status.OPEN, rots_at__isnull=False, rots_at__lte=now, rots_at__gt=start)
                .exclude(
                    Exists(RuleRun.objects.filter(rule=rule, opportunity=OuterRef("pk"), episode=OuterRef("rots_at")))
                )
                .order_by("rots_at")
                .values_list("pk", "rots_at")[:limit]
            )
            for pk, rots_at in deals:
                fired += bool(
                    rule_fire(rule, event=f"rotten:{pk}:{int(rots_at.timestamp())}", opportunity_id=pk, episode=rots_at)
                )
        else:
            activities = (
                Activity.objects.filter(rule_conditions_q(rule, prefix="opportunity__"))
                .filter(done=False, opportunity__isnull=False, due_at__lte=now, due_at__gt=start)
                .exclude(Exists(RuleRun.objects.filter(rule=rule, activity=OuterRef("pk"), episode=OuterRef("due_at"))))
                .order_by("due_at")[:limit]
            )
            for activity in activities:
                fired += bool(
                    rule_fire(
                        rule,
                        event=f"overdue:{activity.pk}:{int(activity.due_at.timestamp())}",
                        opportunity_id=activity.opportunity_id,
                        activity=activity,
                        episode=activity.due_at,
                    )
                )
    return fired
