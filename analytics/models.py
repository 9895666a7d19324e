"""Sales targets and report subscriptions: what a manager expects of a rep or a team in a month or a
quarter, and which report they want in their mailbox, how often."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Metric(models.TextChoices):
    WON_AMOUNT = "won_amount", _("Won amount")
    WON_COUNT = "won_count", _("Number of won deals")
    ACTIVITIES_DONE = "activities_done", _("Activities done")


class SalesTarget(models.Model):
    """A target for one rep (``owner``) or one team, for one month or quarter and one metric.

    ``period_start`` is the first day of the month or quarter. Won amounts are in the reporting
    currency (``settings.CRM_BASE_CURRENCY``), as every total of the reports."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    period_kind = models.CharField(_("period"), max_length=7, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    value = models.DecimalField(
        _("target"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["period_start", "metric", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner__isnull=False) & Q(team__isnull=True))
                | (Q(owner__isnull=True) & Q(team__isnull=False)),
                name="salestarget_owner_xor_team",
            ),
            models.UniqueConstraint(
                fields=["owner", "period_kind", "period_start", "metric"],
                condition=Q(owner__isnull=False),
                name="salestarget_unique_owner",
            ),
            models.UniqueConstraint(
                fields=["team", "period_kind", "period_start", "metric"],
                condition=Q(team__isnull=False),
                name="salestarget_unique_team",
            ),
        ]
        indexes = [models.Index(fields=["period_start", "period_kind"], name="salestarget_period_idx")]

    def __str__(self):
        return f"{self.owner or self.team} {self.metric} {self.period_start}: {self.value}"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ReportKind(models.TextChoices):
    WON_LOST = "won_lost", _("Won/lost")
    FUNNEL = "funnel", _("Funnel")
    FORECAST = "forecast", _("Forecast")
    LOST_DEALS = "lost_deals", _("Lost deals")
    TARGETS = "targets", _("Targets")
    STAGES = "stages", _("Time in stage")
    VELOCITY = "velocity", _("Sales velocity")
    COHORTS = "cohorts", _("Cohorts")
    ACCURACY = "accuracy", _("Forecast accuracy")


class ReportSubscription(models.Model):
    """A report (with its filters, as the page's query string) e-mailed to ``user`` weekly or
    monthly, computed as ``user`` sees it, in ``user``'s language."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    report = models.CharField(_("report"), max_length=20, choices=ReportKind.choices)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    frequency = models.CharField(_("frequency"), max_length=7, choices=Frequency.choices)
    next_send_at = models.DateTimeField(_("next e-mail at"))
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["report", "pk"]
        indexes = [models.Index(fields=["next_send_at"], name="reportsub_next_idx")]

    def __str__(self):
        return f"{self.user} {self.report} {self.frequency}"
