"""What the analytics reports share: the reports' filter (one visibility rule, one set of filters),
the grouping keys and their labels, ratios and rounding."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pipeline.models import Pipeline
from reports.selectors.common import report_filter
from reports.selectors.won_lost import _group_label, _group_names, _main_product

TENTH = Decimal("0.1")
CENT = Decimal("0.01")

# How the analytics reports may be grouped ("" = one row for everything).
GROUPS = [
    ("", gettext_lazy("Everything")),
    ("owner", gettext_lazy("Owner")),
    ("team", gettext_lazy("Team")),
    ("product", gettext_lazy("Product")),
    ("pipeline", gettext_lazy("Pipeline")),
    ("lead_source", gettext_lazy("Lead source")),
    ("type", gettext_lazy("Type")),
]


def q(value, places=TENTH) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def analytics_filter(*, user, params, date_field: str, groups=None):
    """The reports' bound filter plus this report's ``group_by`` (validated here): returns
    (filterset, group_by)."""
    groups = groups or GROUPS
    params = dict(params.items()) if params is not None else {}
    group_by = params.get("group_by", "") or ""
    # ReportFilter ignores the keys it has no filter for (``group_by`` here: ours has other choices).
    filterset = report_filter(user=user, params=params, date_field=date_field)
    if group_by not in dict(groups):
        raise ValidationError({"group_by": [_("Choose how to group the report.")]})
    show_field(filterset, "group_by", forms.ChoiceField(label=_("Group by"), choices=groups, required=False))
    filterset.group_by = group_by
    return filterset, group_by


def show_field(filterset, name: str, field) -> None:
    """Add a report-specific field to the filter bar (its value is read from the same data)."""
    form = filterset.form
    form.fields[name] = field
    field.widget.attrs["class"] = (
        "form-select form-select-sm" if isinstance(field, forms.ChoiceField) else "form-control form-control-sm"
    )


def undated(filterset):
    """The deals the filterset selects, whatever their dates (the filters but the date range)."""
    return django_filters.FilterSet.filter_queryset(filterset, filterset.queryset)


def group_key(group_by: str):
    if group_by == "":
        return Value(0)
    if group_by == "product":
        return _main_product("product_id")
    return {
        "owner": F("owner_id"),
        "team": F("owner__team_id"),
        "pipeline": F("pipeline_id"),
        "lead_source": F("lead_source"),
        "type": F("type"),
    }[group_by]


def group_labels(group_by: str, keys) -> dict:
    """{key: (key as text, label, sort key)} for the keys: one query at most."""
    keys = set(keys)
    if group_by == "":
        return {k: ("all", _("All deals"), (0, "")) for k in keys}
    if group_by == "pipeline":
        names = dict(Pipeline.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
        return {k: (str(k), names.get(k, str(k)), (0, names.get(k, "").lower())) for k in keys}
    names = _group_names(group_by, keys)
    return {k: _group_label(group_by, k, names) for k in keys}


def previous_period(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of the same length just before [start, end]: whole months shift by months."""
    from ..periods import add_months

    after = end + datetime.timedelta(days=1)
    if start.day == 1 and after.day == 1:
        months = (after.year - start.year) * 12 + after.month - start.month
        return add_months(start, -months), start - datetime.timedelta(days=1)
    length = after - start
    return start - length, start - datetime.timedelta(days=1)
