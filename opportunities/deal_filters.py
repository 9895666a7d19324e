"""What a reader asked to see of the deals, as a small validated value: :class:`DealFilters`.

The faces (the deal list, the board, the API, the forecast) validate their parameters with their
FilterSet (a bad value is a 400 or a form error naming it) and turn the cleaned values into a
``DealFilters``. The selectors receive it with the reader and decide from its values, never from
the SQL of a queryset, whether the totals the database keeps can answer
(:meth:`DealFilters.keys_only`, ``opportunities.rollups.stage_totals_for``) or the deals must be
added up (:func:`deals_matching`).
"""

import datetime
from dataclasses import dataclass, fields, replace
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from accounts.permissions import owned_by_visible_q
from customfields.filters import custom_q_from_param
from search.specs import OPPORTUNITY as SEARCH_SPEC
from search.text import match_q as search_match_q

from .models import Opportunity, OpportunityLine

# The per-stage totals (StageTotal) are grouped by pipeline, stage, owner, status and currency: a
# filter on one of those, or on who owns the deal (an owner's team, "mine", "my team"), selects
# whole rows of them. Any other filter needs the deals themselves.
KEY_FIELDS = frozenset({"pipeline", "stages", "statuses", "owners", "teams", "scope", "currencies"})

# FilterSet field → DealFilters field, for the names that differ or hold one value of a set.
_FROM_FILTERSET = {
    "q": "search",
    "search": "text",
    "stage": "stages",
    "status": "statuses",
    "owner": "owners",
    "team": "teams",
    "currency": "currencies",
}
# FilterSet fields that are not filters of the deals (the order of the rows).
_NOT_FILTERS = frozenset({"ordering"})


def _pk(value):
    return getattr(value, "pk", value)


@dataclass(frozen=True)
class DealFilters:
    """Which of the reader's active (not archived) deals to count or list. Empty: all of them.

    Sets are tuples (``None``: any); ``scope`` is ``"mine"`` or ``"team"`` relative to the reader.
    """

    # Keys of the kept totals.
    pipeline: int | None = None
    stages: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None
    owners: tuple[int, ...] | None = None
    teams: tuple[int, ...] | None = None
    scope: str = ""
    currencies: tuple[str, ...] | None = None
    # Anything else.
    search: str = ""
    text: str = ""  # the API's ?search=: the global search's index (search/text.py)
    type: str = ""
    lead_source: str = ""
    organization: int | Decimal | None = None
    contact: int | Decimal | None = None
    product: int | None = None
    tag: str = ""  # a tag's name, any case
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    close_after: datetime.date | None = None
    close_before: datetime.date | None = None
    closed_after: datetime.date | None = None
    closed_before: datetime.date | None = None
    updated_since: datetime.datetime | None = None
    # Custom field filters: (``cf_…`` parameter, cleaned value) pairs (customfields.filters).
    custom: tuple[tuple[str, object], ...] = ()
    # Markers (opportunities.services.rotting): rotten deals, deals with no planned activity.
    rotten: bool = False
    no_next_activity: bool = False

    @classmethod
    def from_cleaned_data(cls, data: dict) -> "DealFilters":
        """From a validated FilterSet's ``form.cleaned_data`` (a field it refused is not there).

        A filter this class does not know raises: it would be left out of the totals silently."""
        values = {}
        known = {f.name for f in fields(cls)}
        for name, value in data.items():
            if name in _NOT_FILTERS or value in (None, "", [], ()):
                continue
            if name.startswith("cf_"):
                values["custom"] = (
                    *values.get("custom", ()),
                    (name, tuple(value) if isinstance(value, list) else value),
                )
                continue
            target = _FROM_FILTERSET.get(name, name)
            if target not in known:
                raise ValueError(f"DealFilters does not know the filter {name!r}")
            if target in ("stages", "statuses", "owners", "teams", "currencies"):
                value = tuple(sorted({_pk(v) for v in (value if isinstance(value, list | tuple) else [value])}))
            elif target in ("pipeline", "product"):
                value = _pk(value)
            elif target == "scope" and value == "all":
                continue
            values[target] = value
        return cls(**values)

    @classmethod
    def from_filterset(cls, filterset) -> "DealFilters":
        """From a bound FilterSet the face has validated (``None``: no filter asked for)."""
        if filterset is None or not filterset.is_bound:
            return cls()
        filterset.is_valid()
        return cls.from_cleaned_data(filterset.form.cleaned_data)

    def keys_only(self) -> bool:
        """Whether only keys of the kept totals are filtered: they then hold exactly these deals."""
        default = DealFilters()
        return all(getattr(self, f.name) == getattr(default, f.name) for f in fields(self) if f.name not in KEY_FIELDS)

    def with_stages(self, stage_ids) -> "DealFilters":
        """Narrowed to ``stage_ids`` too (a board move refreshes the two columns it touched)."""
        wanted = set(stage_ids) if self.stages is None else set(stage_ids) & set(self.stages)
        return replace(self, stages=tuple(sorted(wanted)))

    def owner_q(self, user) -> Q:
        """The filters on who owns the deals, for the deals and the totals alike (both have ``owner``)."""
        q = Q()
        if self.owners is not None:
            q &= Q(owner_id__in=self.owners)
        if self.teams is not None:
            q &= Q(owner__team_id__in=self.teams)
        if self.scope == "mine":
            q &= Q(owner_id=user.pk)
        elif self.scope == "team":
            q &= owned_by_visible_q(user)
        return q

    def keys_q(self, user) -> Q:
        """The key filters, valid on the deals and on StageTotal rows."""
        q = self.owner_q(user)
        if self.pipeline is not None:
            q &= Q(pipeline_id=self.pipeline)
        if self.stages is not None:
            q &= Q(stage_id__in=self.stages)
        if self.statuses is not None:
            q &= Q(status__in=self.statuses)
        if self.currencies is not None:
            q &= Q(currency__in=self.currencies)
        return q

    def apply(self, deals, *, user):
        """``deals`` narrowed by every filter (what the totals hold when :meth:`keys_only`)."""
        deals = deals.filter(self.keys_q(user))
        lookups = {
            "type": "type",
            "lead_source": "lead_source",
            "organization": "organization_id",
            "contact": "contact_id",
            "amount_min": "amount__gte",
            "amount_max": "amount__lte",
            "close_after": "expected_close_date__gte",
            "close_before": "expected_close_date__lte",
            "closed_after": "closed_at__date__gte",
            "closed_before": "closed_at__date__lte",
            "updated_since": "updated_at__gte",
        }
        for name, lookup in lookups.items():
            value = getattr(self, name)
            if value not in (None, ""):
                deals = deals.filter(**{lookup: value})
        for name, value in self.custom:
            deals = deals.filter(custom_q_from_param("deal", name, list(value) if isinstance(value, tuple) else value))
        if self.rotten:
            deals = deals.rotten()
        if self.no_next_activity:
            deals = deals.without_next_activity()
        if self.product is not None:
            lines = OpportunityLine.objects.filter(opportunity=OuterRef("pk"), product=self.product)
            deals = deals.filter(Exists(lines))
        if self.tag:
            deals = deals.filter(tags__name__iexact=self.tag)
        if self.text:
            deals = deals.filter(search_match_q(SEARCH_SPEC, self.text) or Q(pk__in=[]))
        return search_deals(deals, self.search)


def search_deals(deals, text: str):
    """Deals whose name, organization, contact or next step contains every word of ``text``."""
    for term in text.split():
        deals = deals.filter(
            Q(name__icontains=term)
            | Q(organization__name__icontains=term)
            | Q(contact__last_name__icontains=term)
            | Q(contact__first_name__icontains=term)
            | Q(next_step__icontains=term)
        )
    return deals


def deals_matching(*, user, filters: DealFilters):
    """The active deals ``user`` may see that ``filters`` select (the live answer to any filter)."""

    return filters.apply(Opportunity.objects.visible_to(user).active(), user=user)
