from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, JSONField, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.currency import quantize_cents
from core.models import PricedLine
from core.validators import currency_code, plausible_date

from .querysets import OpportunityQuerySet


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    EXISTING_BUSINESS = "existing_business", _("Existing business")


class LeadSource(models.TextChoices):
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner")
    EVENT = "event", _("Event or trade show")
    COLD_CALL = "cold_call", _("Cold call")
    EMAIL_CAMPAIGN = "email_campaign", _("E-mail campaign")
    ADVERTISING = "advertising", _("Advertising")
    EXISTING_CUSTOMER = "existing_customer", _("Existing customer")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    """Mirrors the kind of the current stage; kept on the row so reports need no join."""

    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Opportunity(models.Model):
    """A sales opportunity (deal). Stage, status, probability and closed_at change only through
    ``opportunities.services.stages.opportunity_move_stage``; other fields through ``opportunities.services``."""

    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(
        "pipeline.Pipeline", verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(
        "pipeline.Stage", verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    status = models.CharField(_("status"), max_length=4, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", validators=[currency_code])
    # The amount in settings.CRM_BASE_CURRENCY at the rate of its reference date; empty when no
    # rate is known. Totals add this, never amounts of different currencies.
    amount_base = models.DecimalField(
        _("amount in base currency"), max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True, validators=[plausible_date])
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    probability_is_manual = models.BooleanField(
        _("probability set by hand"),
        default=False,
        help_text=_("When set, moving the deal to another open stage keeps this probability."),
    )
    type = models.CharField(
        _("type"), max_length=20, choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_date = models.DateField(_("next step date"), null=True, blank=True, validators=[plausible_date])
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    # Where a deal from a web form came from (webforms app): the campaign of its UTM parameters and
    # the form's id (a plain id, not a key: the deal table does not depend on the forms app).
    utm_campaign = models.CharField(_("campaign"), max_length=200, blank=True, default="", db_default="")
    lead_form = models.BigIntegerField(_("web form"), null=True, blank=True, editable=False)
    lost_reason = models.ForeignKey(
        "pipeline.LostReason",
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    lost_note = models.CharField(_("lost note"), max_length=300, blank=True)
    # The stage a lost deal was in when it was lost (empty for deals created lost, and for deals
    # not lost): set by the stage policy (opportunities.services.stages.stage_enter), read by the lost-deals
    # report instead of searching each deal's history.
    lost_from_stage = models.ForeignKey(
        "pipeline.Stage",
        verbose_name=_("lost from stage"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    # Rotting (opportunities.services.rotting): when an activity of the deal was last done, and the
    # moment the deal rots: the later of entering the stage and the last done activity, plus the
    # stage's days to rot. Empty for closed deals and stages that never rot. Kept by the stage
    # service and the activity services, so filters, counts and the periodic rules read one
    # indexed column instead of joining stages and activities.
    last_activity_at = models.DateTimeField(_("last activity done"), null=True, blank=True, editable=False)
    rots_at = models.DateTimeField(_("rots at"), null=True, blank=True, editable=False)
    # Order of the card within its board column (lower first).
    position = models.IntegerField(_("position"), default=0)
    # What the funnel reads, kept from the stage history by database triggers (rollups.py), never
    # written by Python: the ids of the stages the deal ever entered, ascending ("3,5,7"), and its
    # finished stays as JSON [[stage id, whole days], ...] (a stay ends when the next one starts).
    stages_entered = models.TextField(_("stages entered"), default="", db_default="", blank=True, editable=False)
    stage_days = models.TextField(
        _("days in each stage left"), default="[]", db_default="[]", blank=True, editable=False
    )
    # Optimistic concurrency: every write bumps it; a write made on an older copy is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Values of the company's own fields (customfields app), keyed by each definition's stable key;
    # written only by this model's services, which validate them (customfields.services).
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, db_default=Value({}, JSONField()), editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False) | Q(contact__isnull=False),
                name="opportunity_has_customer",
                violation_error_message=_("An opportunity needs an organization or a contact."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="opportunity_amount_not_negative",
                violation_error_message=_("The amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="opportunity_probability_range",
                violation_error_message=_("The probability must be between 0 and 100."),
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "won", "lost"]), name="opportunity_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status__in=["won", "lost"], closed_at__isnull=False),
                name="opportunity_closed_at_matches_status",
                violation_error_message=_("Won and lost deals have a closing date; open deals do not."),
            ),
            models.CheckConstraint(
                condition=~Q(status="lost") | Q(lost_reason__isnull=False),
                name="opportunity_lost_has_reason",
                violation_error_message=_("A lost deal needs a lost reason."),
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="opportunity_external_id_unique",
                violation_error_message=_("Another opportunity already has this external id."),
            ),
        ]
        indexes = [
            # Board columns: the cards of a stage in order, archived deals excluded.
            models.Index(
                fields=["stage", "position", "id"],
                condition=Q(archived_at__isnull=True),
                name="opp_board_idx",
            ),
            # Lists and "my deals".
            models.Index(fields=["owner", "status"], name="opp_owner_status_idx"),
            # Won/lost reports by closing date.
            models.Index(fields=["status", "closed_at"], name="opp_status_closed_idx"),
            # Forecast by expected close date.
            models.Index(fields=["status", "expected_close_date"], name="opp_status_expected_idx"),
            models.Index(fields=["organization"], name="opp_organization_idx"),
            models.Index(fields=["contact"], name="opp_contact_idx"),
            models.Index(Lower("name"), name="opp_name_lower_idx"),
            models.Index(fields=["updated_at"], name="opp_updated_idx"),
            # The default list and API order (newest first) without sorting the whole table.
            models.Index(
                F("created_at").desc(),
                F("id").desc(),
                condition=Q(archived_at__isnull=True),
                name="opp_active_created_idx",
            ),
            # Rotten deals (filters, home counts, the periodic "goes rotten" rules): a range scan.
            models.Index(
                fields=["rots_at"],
                condition=Q(status="open", rots_at__isnull=False, archived_at__isnull=True),
                name="opp_rots_at_idx",
            ),
            # pipeline_summary's "amounts without an exchange rate": a handful of rows, found at once.
            models.Index(
                fields=["pipeline", "stage"],
                condition=Q(amount_base__isnull=True, archived_at__isnull=True),
                name="opp_unconverted_idx",
            ),
        ]

    def __str__(self):
        return self.name

    # Written only by the database (the stage history's triggers): a copy loaded before a move
    # must not write its stale values back.
    # ``last_activity_at`` and ``rots_at`` are written by ``opportunities.services.rotting`` with an
    # UPDATE, and by the stage service: a copy loaded before an activity was done must not undo it.
    DATABASE_KEPT = frozenset({"stages_entered", "stage_days", "last_activity_at"})

    def save(self, *args, **kwargs):
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in self.DATABASE_KEPT
            ]
        elif kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = [f for f in kwargs["update_fields"] if f not in self.DATABASE_KEPT]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("opportunities:detail", args=[self.pk])

    @property
    def customer(self):
        """The organization, else the contact: who the deal is with."""
        return self.organization or self.contact

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def weighted_amount(self) -> Decimal:
        return quantize_cents(self.amount * self.probability / Decimal(100))

    @property
    def rotting_since(self):
        """Since when the deal has been left alone: the later of entering its stage and its last
        done activity."""
        if self.last_activity_at and self.last_activity_at > self.stage_entered_at:
            return self.last_activity_at
        return self.stage_entered_at

    @property
    def is_stale(self) -> bool:
        """Rotten: left alone in an open stage longer than the stage's days to rot."""
        return self.is_open and self.rots_at is not None and self.rots_at <= timezone.now()

    @property
    def idle_days(self) -> int:
        return max((timezone.now() - self.rotting_since).days, 0)

    def clean(self):
        errors = {}
        if not self.organization_id and not self.contact_id:
            errors["organization"] = [_("Choose an organization or a contact (or both).")]
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            errors["stage"] = [_("This stage belongs to another pipeline.")]
        if (
            self.contact_id
            and self.organization_id
            and self.contact.organization_id
            and self.contact.organization_id != self.organization_id
        ):
            errors["contact"] = [_("This contact works for another organization.")]
        if errors:
            raise ValidationError(errors)


class OpportunityLine(PricedLine):
    """A product or service sold in a deal, with quantity, price and discount."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "products.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunity_lines",
    )
    description = models.CharField(_("description"), max_length=300, blank=True)

    class Meta(PricedLine.Meta):
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")

    def __str__(self):
        return self.description or str(self.product)

    @property
    def total(self) -> Decimal:
        return self.net_total


class OpportunityChange(models.Model):
    """One field of a deal changed by someone: the audit trail shown on the deal's timeline.

    Written by the opportunity services in the same transaction as the change (stage changes have
    their own, richer history in ``pipeline.StageChange``). Values are kept as the text a person
    read at the time, so the trail stays readable when related records are renamed or archived.
    """

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="field_changes"
    )
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("deal change")
        verbose_name_plural = _("deal changes")
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="opp_change_timeline_idx")]

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value}"

    @property
    def field_label(self) -> str:
        if self.field == "archived":
            return str(_("archived"))
        if self.field.startswith("custom_fields."):
            from customfields.selectors import definition_get

            definition = definition_get("deal", self.field.removeprefix("custom_fields."), include_archived=True)
            return definition.label if definition else self.field
        try:
            return str(Opportunity._meta.get_field(self.field).verbose_name)
        except Exception:  # a field that no longer exists
            return self.field


# --- Totals kept by the database ----------------------------------------------------------------
# Rows of these tables are written only by the triggers that opportunities/rollups.py installs on
# the deal table (so the services, imports, the admin, bulk updates and COPY all keep them right,
# in the same transaction) and by rollups.rollups_rebuild(). Nothing else writes them; the
# selectors read them when a question can be answered from them exactly.


def _rollup_fk(model, verbose_name):
    # No database constraint or index: the rows follow the deals (which protect their owner,
    # pipeline and stage), and every index is one more for each trigger to update.
    return models.ForeignKey(
        model,
        verbose_name=verbose_name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


def _money(verbose_name, digits=24):
    return models.DecimalField(verbose_name, max_digits=digits, decimal_places=2, default=Decimal("0"))


class StageTotal(models.Model):
    """The deals not archived, per pipeline, stage, owner, status and currency: count, amount in
    the base currency, Σ amount × probability, and the amounts without a known rate. Visibility is
    a set of owners, so what a reader may see is a set of these rows."""

    pipeline = _rollup_fk("pipeline.Pipeline", _("pipeline"))
    stage = _rollup_fk("pipeline.Stage", _("stage"))
    owner = _rollup_fk(settings.AUTH_USER_MODEL, _("owner"))
    status = models.CharField(_("status"), max_length=4)
    currency = models.CharField(_("currency"), max_length=3)
    deals = models.BigIntegerField(_("deals"), default=0)
    amount_base = _money(_("amount in base currency"))
    weighted = _money(_("amount × probability"), digits=26)
    unconverted_deals = models.BigIntegerField(_("deals without an exchange rate"), default=0)
    unconverted_amount = _money(_("amount without an exchange rate"))

    class Meta:
        verbose_name = _("stage total")
        verbose_name_plural = _("stage totals")
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "stage", "owner", "status", "currency"], name="opp_stagetotal_key"
            )
        ]

    def __str__(self):
        return f"{self.stage_id}/{self.owner_id}/{self.currency}: {self.deals}"


class ClosedMonth(models.Model):
    """The won and lost deals not archived, per month of their closing date (in the time zone the
    triggers were installed with, see rollups.closed_months_time_zone), pipeline, owner, status,
    currency, type, lead source and lost reason (0: none)."""

    month = models.DateField(_("month"))
    pipeline = _rollup_fk("pipeline.Pipeline", _("pipeline"))
    owner = _rollup_fk(settings.AUTH_USER_MODEL, _("owner"))
    status = models.CharField(_("status"), max_length=4)
    currency = models.CharField(_("currency"), max_length=3)
    type = models.CharField(_("type"), max_length=20)
    lead_source = models.CharField(_("lead source"), max_length=20)
    lost_reason_id = models.BigIntegerField(_("lost reason"), default=0)
    deals = models.BigIntegerField(_("deals"), default=0)
    converted_deals = models.BigIntegerField(_("deals with an exchange rate"), default=0)
    amount_base = _money(_("amount in base currency"))
    amount = _money(_("amount"))
    unconverted_amount = _money(_("amount without an exchange rate"))
    cycle_days = models.BigIntegerField(_("days from creation to close"), default=0)

    class Meta:
        verbose_name = _("closed deals of a month")
        verbose_name_plural = _("closed deals per month")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "pipeline", "owner", "status", "currency", "type", "lead_source", "lost_reason_id"],
                name="opp_closedmonth_key",
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}/{self.owner_id}/{self.status}: {self.deals}"


class FunnelCohort(models.Model):
    """The deals not archived, per month of their creation (in the time zone the triggers were
    installed with), pipeline, owner, currency, type, lead source and set of stages entered: how
    far a cohort of deals went, for the funnel, without reading their history."""

    month = models.DateField(_("month"))
    pipeline = _rollup_fk("pipeline.Pipeline", _("pipeline"))
    owner = _rollup_fk(settings.AUTH_USER_MODEL, _("owner"))
    currency = models.CharField(_("currency"), max_length=3)
    type = models.CharField(_("type"), max_length=20)
    lead_source = models.CharField(_("lead source"), max_length=20)
    stages_entered = models.TextField(_("stages entered"))
    deals = models.BigIntegerField(_("deals"), default=0)

    class Meta:
        verbose_name = _("deals created in a month, by stages entered")
        verbose_name_plural = _("deals created per month, by stages entered")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "pipeline", "owner", "currency", "type", "lead_source", "stages_entered"],
                name="opp_funnelcohort_key",
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m}/{self.owner_id}/{self.stages_entered}: {self.deals}"


class StageStay(models.Model):
    """The finished stays in a stage of the deals not archived, per month of the deal's creation,
    pipeline, stage and calendar days spent in it (``rollups.calendar_days_sql``): the histogram the
    funnel's and the time-in-stage report's figures are read from."""

    month = models.DateField(_("month"))
    pipeline = _rollup_fk("pipeline.Pipeline", _("pipeline"))
    stage = _rollup_fk("pipeline.Stage", _("stage"))
    days = models.BigIntegerField(_("days"))
    stays = models.BigIntegerField(_("stays"), default=0)

    class Meta:
        verbose_name = _("stays in a stage")
        verbose_name_plural = _("stays in stages")
        constraints = [models.UniqueConstraint(fields=["month", "pipeline", "stage", "days"], name="opp_stagestay_key")]

    def __str__(self):
        return f"{self.month:%Y-%m}/{self.stage_id}/{self.days}d: {self.stays}"
