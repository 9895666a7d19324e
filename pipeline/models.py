from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .stage_names import seeded_display_name


class PipelineQuerySet(models.QuerySet):
    def default(self) -> "Pipeline | None":
        """The default pipeline (or, before one is marked, the oldest); None when there is none.
        Every "which pipeline when none is named" question (board, new deals, imports, reports)
        asks this."""
        return self.filter(is_default=True).first() or self.order_by("pk").first()


class Pipeline(models.Model):
    """An ordered set of stages a deal goes through. Exactly one pipeline is the default."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    # Seeded pipelines and stages carry names that have translations in the catalogs; names typed by
    # users are shown as typed.
    is_system = models.BooleanField(_("seeded"), default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PipelineQuerySet.as_manager()

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="pipeline_single_default",
                violation_error_message=_("Only one pipeline can be the default."),
            )
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return seeded_display_name(self.name, is_system=self.is_system)


class Stage(models.Model):
    """A column of a pipeline. ``kind`` says whether a deal in it is still open, won or lost."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("default win probability (%)"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    stale_after_days = models.PositiveSmallIntegerField(
        _("days to rot"),
        null=True,
        blank=True,
        help_text=_(
            "A deal left alone this many days (no stage change, no activity done) is flagged as rotten. "
            "Empty: deals never rot in this stage; won and lost stages never rot."
        ),
    )
    is_system = models.BooleanField(_("seeded"), default=False, editable=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "order"], name="stage_unique_order"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="stage_probability_range",
                violation_error_message=_("The probability must be between 0 and 100."),
            ),
            models.CheckConstraint(condition=Q(kind__in=["open", "won", "lost"]), name="stage_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind="won") | Q(probability=100),
                name="stage_won_is_certain",
                violation_error_message=_("A won stage has a probability of 100%."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="lost") | Q(probability=0),
                name="stage_lost_is_zero",
                violation_error_message=_("A lost stage has a probability of 0%."),
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return seeded_display_name(self.name, is_system=self.is_system)

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN

    def clean(self):
        if self.kind != self.Kind.OPEN and self.stale_after_days:
            from django.core.exceptions import ValidationError

            raise ValidationError({"stale_after_days": _("Won and lost stages never rot: leave this empty.")})

    @property
    def is_won(self) -> bool:
        return self.kind == self.Kind.WON

    @property
    def is_lost(self) -> bool:
        return self.kind == self.Kind.LOST


class LostReason(models.Model):
    """Why a deal was lost; required when a deal enters a lost stage."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    is_system = models.BooleanField(_("seeded"), default=False, editable=False)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["order", "name"]

    def __str__(self):
        return seeded_display_name(self.name, is_system=self.is_system)


class StageChange(models.Model):
    """One row per stage a deal entered (its first stage included), written by the stage service."""

    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stage_changes",
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="entries")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stagechange_opp_time_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_stage_time_idx"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"
