"""What every report shares: the bound filter over the deals the reader may see, ratios, and the
day of a datetime in the active time zone."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from customfields.models import FieldType
from customfields.selectors import definitions_for
from opportunities.models import Opportunity
from webforms.models import WebForm

from ..filters import ReportFilter

RATE = Decimal("0.0001")
TENTH = Decimal("0.1")


def ratio(part, whole) -> Decimal | None:
    """part / whole to four decimals (0.2500 = 25 %), or None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def all_of(*conditions):
    """AND of the conditions that are not None, or None (no FILTER clause at all)."""
    conditions = [c for c in conditions if c is not None]
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def report_filter(*, user, params, date_field: str, with_group_by: bool = False, group_choices=None) -> ReportFilter:
    """The bound, validated filter over the deals ``user`` may see; raises ValidationError naming
    the bad fields."""
    deals = Opportunity.objects.visible_to(user).active()
    filterset = ReportFilter(
        params if params is not None else {},
        queryset=deals,
        date_field=date_field,
        with_group_by=with_group_by,
        group_choices=group_choices,
        user=user,
    )
    if not filterset.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in filterset.errors.items()})
    start, end = filterset.date_range()
    if start and end and start > end:
        raise ValidationError({"date_to": [_("The end of the period is before its start.")]})
    return filterset


def local_date(value):
    """The calendar day of a date or datetime, in the active time zone (a TruncMonth of an aware
    datetime comes back aware)."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def whole_months(filterset: ReportFilter) -> bool:
    """Whether the period asked for is made of whole months (every preset is; two dates are when
    they are a month's first and last day), so that monthly kept totals can answer it."""
    start, end = filterset.date_range()
    return not ((start and start.day != 1) or (end and (end + datetime.timedelta(days=1)).day != 1))


# --- Where deals came from: the web form and the UTM campaign stored on each deal -----------------

SOURCE_GROUPS = ("lead_form", "utm_campaign")
# A single-choice custom field of the deal (``cf_<key>``) or of its organization (``org_cf_<key>``):
# "won/lost by Settore". Keyed by the choice's stable key, labelled in the reader's language.
CUSTOM_GROUPS = (("org_cf_", "organization", "organization__custom_fields"), ("cf_", "deal", "custom_fields"))


def _custom_group(group_by: str):
    """(definition, JSON path) of a custom grouping, or None when ``group_by`` is not one."""
    for prefix, entity, path in CUSTOM_GROUPS:
        if group_by.startswith(prefix):
            key = group_by.removeprefix(prefix)
            for definition in definitions_for(entity):
                if definition.key == key and definition.type == FieldType.CHOICE:
                    return definition, path
            return None
    return None


def is_source_group(group_by: str) -> bool:
    """Whether ``group_by`` groups by a value stored on each deal (its form, campaign or a custom
    field's choice) rather than by one of the kept totals' keys."""
    return group_by in SOURCE_GROUPS or _custom_group(group_by or "") is not None


def source_group_key(group_by: str):
    """The deal column a source grouping is keyed by (the form's id, the campaign's text, a custom
    choice's key)."""
    custom = _custom_group(group_by)
    if custom is not None:
        definition, path = custom
        return KeyTextTransform(definition.key, path)
    return F(group_by)


def source_group_names(group_by: str, keys: set) -> dict:
    """The names of the web forms keyed by id (one query, none without forms); campaigns are
    their own names, custom choices are labelled from their definition."""
    keys = {k for k in keys if k not in (None, "")}
    if group_by != "lead_form" or not keys:
        return {}
    return dict(WebForm.objects.filter(pk__in=keys).values_list("pk", "name"))


def source_group_label(group_by: str, key, names: dict) -> tuple[str | None, str, tuple]:
    """(key as text, label a person reads, sort key) of one source group; deals without a form, a
    campaign or a value come last."""
    custom = _custom_group(group_by)
    if key is None or key == "":
        if custom is not None:
            return None, _("No value"), (1, "")
        return None, _("No web form") if group_by == "lead_form" else _("No campaign"), (1, "")
    if custom is not None:
        definition, _path = custom
        label = definition.choice_label(key)
        keys = [c.get("key") for c in definition.choices or ()]
        return str(key), label, (0, keys.index(key) if key in keys else len(keys), label.lower())
    if group_by == "lead_form":
        # A deleted form keeps its deals: they still count, under the form's number.
        label = names.get(key) or _("Web form #%(id)s") % {"id": key}
        return str(key), label, (0, label.lower())
    return key, key, (0, key.lower())
