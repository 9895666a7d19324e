"""The one FilterSet of every report, shared by the pages, the API and the exports.

The date range (a preset or two dates) applies to a different date per report: the closing date
for won/lost and lost deals, the creation date for the funnel, the expected close date for the
forecast. Ranges become datetime bounds in the active time zone, so the database can use its
indexes instead of casting every row.
"""

import calendar
import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import sees_everything, team_ids
from core.currency import base_currency, currency_choices
from core.dates import date_label
from core.filters import StyledFilterSet
from customfields.models import FieldType
from customfields.selectors import definitions_for
from opportunities.models import LeadSource, Opportunity, OpportunityLine, OpportunityType
from pipeline.models import Pipeline
from products.models import Product

PERIODS = [
    ("this_month", _("This month")),
    ("this_quarter", _("This quarter")),
    ("this_year", _("This year")),
    ("last_12_months", _("Last 12 months")),
]

GROUP_BY = [
    ("owner", _("Owner")),
    ("team", _("Team")),
    ("product", _("Product")),
    ("type", _("Type")),
    ("lost_reason", _("Lost reason")),
    ("lead_source", _("Lead source")),
    ("month", _("Month")),
    ("quarter", _("Quarter")),
    ("lead_form", _("Web form")),
    ("utm_campaign", _("Campaign")),
]

# The funnel is one pipeline's stages: it can be split by where its deals came from.
FUNNEL_GROUP_BY = [
    ("lead_form", _("Web form")),
    ("utm_campaign", _("Campaign")),
]


def period_range(period: str, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """First and last day (inclusive) of a preset period around ``today``."""
    today = today or timezone.localdate()
    if period == "this_month":
        return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if period == "this_quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        last_month = first_month + 2
        return (
            datetime.date(today.year, first_month, 1),
            datetime.date(today.year, last_month, calendar.monthrange(today.year, last_month)[1]),
        )
    if period == "this_year":
        return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
    if period == "last_12_months":
        start_month = today.month + 1
        start = datetime.date(today.year - 1 + (start_month > 12), (start_month - 1) % 12 + 1, 1)
        return start, today.replace(day=calendar.monthrange(today.year, today.month)[1])
    raise ValueError(period)


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _noop(queryset, name, value):
    return queryset


DATE_FIELDS = {"closed": "closed_at", "created": "created_at", "expected": "expected_close_date"}
DATE_BASIS = {"closed": _("closing date"), "created": _("creation date"), "expected": _("expected close date")}
DATE_LABELS = {
    "closed": (_("Closed from"), _("Closed to")),
    "created": (_("Created from"), _("Created to")),
    "expected": (_("Expected close from"), _("Expected close to")),
}


def custom_group_choices() -> list[tuple[str, str]]:
    """The groupings the single-choice custom fields of deals and organizations offer (definitions
    from the per-request cache)."""
    choices = []
    for prefix, entity in (("cf_", "deal"), ("org_cf_", "organization")):
        for definition in definitions_for(entity):
            if definition.type == FieldType.CHOICE:
                label = (
                    definition.label if entity == "deal" else _("Organization: %(field)s") % {"field": definition.label}
                )
                choices.append((f"{prefix}{definition.key}", label))
    return choices


class ReportFilter(StyledFilterSet):
    """Filters of every report. ``date_field`` says which date the range applies to; ``group_by``
    (won/lost; the funnel's with ``group_choices``) and ``currency`` are read by the selectors, not applied here."""

    period = django_filters.ChoiceFilter(choices=PERIODS, method=_noop, label=_("Period"), empty_label=_("All time"))
    date_from = django_filters.DateFilter(method=_noop, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(method=_noop, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    pipeline = django_filters.ModelChoiceFilter(queryset=Pipeline.objects.all(), label=_("Pipeline"))
    team = django_filters.ModelChoiceFilter(field_name="owner__team", queryset=Team.objects.all(), label=_("Team"))
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.all(), label=_("Owner"))
    type = django_filters.ChoiceFilter(choices=OpportunityType.choices, label=_("Type"))
    product = django_filters.ModelChoiceFilter(
        queryset=Product.objects.all(), method="filter_product", label=_("Product")
    )
    lead_source = django_filters.ChoiceFilter(choices=LeadSource.choices, label=_("Lead source"))
    group_by = django_filters.ChoiceFilter(choices=GROUP_BY, method=_noop, label=_("Group by"), empty_label=None)
    currency = django_filters.ChoiceFilter(
        choices=currency_choices, method=_noop, label=_("Currency"), empty_label=_("Reporting currency")
    )

    class Meta:
        model = Opportunity
        fields = []

    def __init__(
        self,
        data=None,
        *args,
        date_field: str = "closed",
        with_group_by: bool = False,
        group_choices=None,
        user=None,
        **kwargs,
    ):
        super().__init__(data, *args, **kwargs)
        self.date_field = date_field
        self.default_group_by = "owner"
        if with_group_by and group_choices is not None:
            # Another report's groupings (the funnel's), optional: no grouping by default.
            self.filters["group_by"].extra.update(choices=group_choices, empty_label=_("No grouping"))
            self.default_group_by = ""
        if with_group_by:
            # The single-choice custom fields of deals and organizations group too (issue 17).
            choices = self.filters["group_by"].extra.get("choices", GROUP_BY)
            self.filters["group_by"].extra["choices"] = [*choices, *custom_group_choices()]
        if user is not None and not sees_everything(user):
            # Offer only the people and teams whose deals the reader may see.
            teams = team_ids(user)
            self.filters["owner"].queryset = get_user_model().objects.filter(Q(pk=user.pk) | Q(team_id__in=teams))
            self.filters["team"].queryset = Team.objects.filter(pk__in=teams)
        if not with_group_by:
            del self.filters["group_by"]
        self.filters["date_from"].label, self.filters["date_to"].label = DATE_LABELS[date_field]
        self.filters["currency"].extra["help_text"] = _(
            "Reporting currency: amounts converted to %(base)s at the rate of their date; "
            "or only the deals in one currency, not converted."
        ) % {"base": base_currency()}

    def date_range(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The inclusive range asked for: explicit dates win over the preset."""
        data = self.form.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if data.get("period") and not (start or end):
            start, end = period_range(data["period"])
        return start, end

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        start, end = self.date_range()
        field = DATE_FIELDS[self.date_field]
        if self.date_field == "expected":
            if start:
                queryset = queryset.filter(**{f"{field}__gte": start})
            if end:
                queryset = queryset.filter(**{f"{field}__lte": end})
        else:
            if start:
                queryset = queryset.filter(**{f"{field}__gte": _day_start(start)})
            if end:
                queryset = queryset.filter(**{f"{field}__lt": _day_start(end + datetime.timedelta(days=1))})
        return queryset

    def filter_product(self, queryset, name, value):
        return queryset.filter(Exists(OpportunityLine.objects.filter(opportunity=OuterRef("pk"), product=value)))

    @property
    def date_basis(self) -> str:
        return str(DATE_BASIS[self.date_field])

    @property
    def period_text(self) -> str:
        """The date range in words, for the page (and its printout)."""
        start, end = self.date_range() if self.is_bound and self.is_valid() else (None, None)
        if not (start or end):
            return str(_("All time"))
        return f"{date_label(start) if start else '…'} – {date_label(end) if end else '…'}"

    @property
    def chosen_currency(self) -> str:
        """The single deal currency asked for, or '' for the reporting (base) currency."""
        return (self.form.cleaned_data.get("currency") or "") if self.is_bound and self.is_valid() else ""

    @property
    def chosen_group_by(self) -> str:
        value = self.form.cleaned_data.get("group_by") if self.is_bound and self.is_valid() else ""
        return value or self.default_group_by
