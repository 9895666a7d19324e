"""Automation rules: *when* something happens to a deal, *if* conditions hold, *then* do actions.

A rule belongs to a team (its manager defines it) or to everybody (an administrator's, ``team``
empty), and acts as its author (``created_by``): every action goes through the services, which
check that author may change the deal. Written only by ``automations.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opportunities.models import LeadSource, OpportunityType

from .querysets import RuleQuerySet


class Trigger(models.TextChoices):
    CREATED = "created", _("A deal is created")
    STAGE_ENTERED = "stage_entered", _("A deal enters a stage")
    WON = "won", _("A deal is won")
    LOST = "lost", _("A deal is lost")
    ROTTEN = "rotten", _("A deal goes rotten")
    FIELD_CHANGED = "field_changed", _("A field of a deal changes")
    ACTIVITY_OVERDUE = "activity_overdue", _("An activity of a deal becomes overdue")


# Triggers a periodic task evaluates (the others come from outbox events).
TIME_TRIGGERS = (Trigger.ROTTEN, Trigger.ACTIVITY_OVERDUE)


class Rule(models.Model):
    name = models.CharField(_("name"), max_length=200)
    enabled = models.BooleanField(_("enabled"), default=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="automation_rules",
        help_text=_("The rule applies to the deals of this team's members; empty: every deal (administrators)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.PROTECT,
        related_name="automation_rules",
    )
    # When
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    trigger_stage = models.ForeignKey(
        "pipeline.Stage",
        verbose_name=_("stage entered"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    trigger_lost_reason = models.ForeignKey(
        "pipeline.LostReason",
        verbose_name=_("lost reason"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only deals lost for this reason (empty: any reason)."),
    )
    trigger_field = models.CharField(_("field changed"), max_length=60, blank=True)
    # If
    pipeline = models.ForeignKey(
        "pipeline.Pipeline",
        verbose_name=_("pipeline"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("stage"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    owner_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("owner's team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    amount_min = models.DecimalField(_("amount at least"), max_digits=14, decimal_places=2, null=True, blank=True)
    amount_max = models.DecimalField(_("amount at most"), max_digits=14, decimal_places=2, null=True, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=OpportunityType.choices, blank=True)
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    custom_field = models.CharField(_("custom field"), max_length=60, blank=True)
    custom_value = models.CharField(_("custom field equals"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["trigger"], condition=Q(enabled=True), name="rule_enabled_trigger_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(trigger="stage_entered") | Q(trigger_stage__isnull=False),
                name="rule_stage_trigger_stage",
                violation_error_message=_("Choose the stage."),
            ),
            models.CheckConstraint(
                condition=~Q(trigger="field_changed") | ~Q(trigger_field=""),
                name="rule_field_trigger_field",
                violation_error_message=_("Name the field."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("automations:edit", args=[self.pk])


class ActionKind(models.TextChoices):
    CREATE_ACTIVITY = "create_activity", _("Create an activity")
    NOTIFY = "notify", _("Notify")
    SET_FIELD = "set_field", _("Set a field")
    MOVE_STAGE = "move_stage", _("Move to a stage")
    WEBHOOK = "webhook", _("Call a webhook")
    SEND_EMAIL = "send_email", _("Send an e-mail from a template")


class Recipient(models.TextChoices):
    OWNER = "owner", _("The deal's owner")
    MANAGER = "manager", _("The owner's manager")
    USER = "user", _("The user named")


class RuleAction(models.Model):
    """One step of a rule, in ``position`` order. Which columns matter depends on ``kind``
    (:meth:`clean` says which are required)."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    text = models.CharField(_("subject or message"), max_length=200, blank=True)
    activity_kind = models.CharField(_("activity kind"), max_length=10, blank=True)
    due_days = models.PositiveSmallIntegerField(_("due in days"), null=True, blank=True)
    recipient = models.CharField(_("for"), max_length=10, choices=Recipient.choices, default=Recipient.OWNER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    field = models.CharField(_("field"), max_length=60, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("stage"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    url = models.URLField(_("webhook URL"), blank=True)
    template = models.ForeignKey(
        "mail.EmailTemplate",
        verbose_name=_("e-mail template"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("rule action")
        verbose_name_plural = _("rule actions")
        ordering = ["rule", "position", "id"]

    def __str__(self):
        return self.get_kind_display()


class RunStatus(models.TextChoices):
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (loop)")
    STOPPED = "stopped", _("Stopped (chain too deep)")


class RuleRun(models.Model):
    """One firing of a rule for one event: the run log, and the reason an event delivered twice
    fires a rule once (unique ``(rule, event)``)."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs")
    # "event:<outbox id>" for outbox events, "rotten:<deal>:<time>" / "overdue:<activity>:<time>" for
    # the periodic triggers (one per rotting episode, one per due time).
    event = models.CharField(_("event"), max_length=100)
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The periodic triggers' episode: when the deal rotted, when the activity fell due.
    episode = models.DateTimeField(_("episode"), null=True, blank=True)
    depth = models.PositiveSmallIntegerField(_("chain depth"), default=0)
    # The rules whose actions led to this event, first to last (loop protection).
    chain = models.JSONField(_("chain"), default=list, blank=True)
    status = models.CharField(_("result"), max_length=10, choices=RunStatus.choices, default=RunStatus.DONE)
    result = models.TextField(_("what was done"), blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["rule", "-created_at"], name="rulerun_rule_time_idx"),
            models.Index(fields=["rule", "opportunity", "episode"], name="rulerun_episode_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["rule", "event"], name="rulerun_once_per_event")]

    def __str__(self):
        return f"{self.rule_id}: {self.event}"
