from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ForecastSnapshot(models.Model):
    """What the open pipeline promised for one expected-close month, as seen in one week.

    Written once a week by ``reports.tasks.forecast_snapshot_take``: one row per (week, pipeline,
    owner, expected close month) so that a later forecast-versus-actual view can apply the same
    owner / team / pipeline filters and visibility as every other report. Amounts are in the base
    currency (``amount_base``); deals without a known rate are left out, as in every total.
    """

    week_start = models.DateField(_("week starting"))
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    pipeline = models.ForeignKey(
        "pipeline.Pipeline", verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("expected close month"), help_text=_("First day of the month."))
    count = models.PositiveIntegerField(_("deals"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=Decimal("0.00"))
    # amount × probability / 100, kept unrounded to the cent of each deal's product so sums stay exact.
    weighted = models.DecimalField(_("weighted amount"), max_digits=20, decimal_places=4, default=Decimal("0"))

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["-week_start", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["week_start", "pipeline", "owner", "month"], name="forecastsnapshot_unique_week_row"
            )
        ]
        indexes = [models.Index(fields=["month", "week_start"], name="forecastsnapshot_month_idx")]

    def __str__(self):
        return f"{self.week_start}: {self.month:%Y-%m}"
