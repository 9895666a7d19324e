"""The global search: one query per kind of record, each starting from ``visible_to(user)``."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from activities.models import Activity
from contacts.models import Contact, Organization
from documents.models import Document
from opportunities.models import Opportunity
from products.models import Product
from quotes.models import Quote

from . import specs
from .text import Spec, match_q, query_parts, score_expr

# Matching rows looked at per kind before ranking: bounds the work of a common word on a big
# table (ranking 200 rows is cheap; ranking the 300,000 deals containing "srl" is not). The
# best of these come first; a more precise query narrows them.
CANDIDATES = 200
SUGGEST_LIMIT = 5
PAGE_LIMIT = 50
_QUOTE_NUMBER = re.compile(r"^\s*(\d{4})\s*/\s*(\d{1,6})\s*$")


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    subtitle: str
    url: str
    score: float


@dataclass
class Kind:
    key: str
    label: str
    spec: Spec
    queryset: Callable  # user -> the visible rows of this kind
    describe: Callable  # row -> (title, subtitle, url)
    related: tuple = ()
    also: Callable = field(default=lambda q: None)  # query -> another Q that matches (quote numbers)


def _quote_number(query):
    m = _QUOTE_NUMBER.match(query)
    return Q(year=int(m[1]), sequence=int(m[2])) if m else None


def _org_line(org):
    return " · ".join(part for part in [org.vat_number, org.city] if part)


KINDS = [
    Kind(
        "deals",
        _("Deals"),
        specs.OPPORTUNITY,
        lambda user: Opportunity.objects.visible_to(user).filter(archived_at__isnull=True),
        lambda d: (d.name, " · ".join(str(p) for p in [d.customer, d.stage] if p), d.get_absolute_url()),
        ("organization", "contact", "stage"),
    ),
    Kind(
        "organizations",
        _("Organizations"),
        specs.ORGANIZATION,
        lambda user: Organization.objects.visible_to(user).active(),
        lambda o: (o.name, _org_line(o), o.get_absolute_url()),
    ),
    Kind(
        "contacts",
        _("Contacts"),
        specs.CONTACT,
        lambda user: Contact.objects.visible_to(user).active(),
        lambda c: (
            c.full_name,
            " · ".join(str(p) for p in [c.organization, c.email, c.phone or c.mobile] if p),
            c.get_absolute_url(),
        ),
        ("organization",),
    ),
    Kind(
        "activities",
        _("Activities"),
        specs.ACTIVITY,
        lambda user: Activity.objects.visible_to(user),
        lambda a: (a.subject, a.get_kind_display(), a.get_absolute_url()),
    ),
    Kind(
        "quotes",
        _("Quotes"),
        specs.QUOTE,
        lambda user: Quote.objects.visible_to(user),
        lambda q: (q.title, f"{q.number} · {q.get_status_display()}", q.get_absolute_url()),
        also=_quote_number,
    ),
    Kind(
        "products",
        _("Products"),
        specs.PRODUCT,
        lambda user: Product.objects.visible_to(user),
        lambda p: (p.name, p.code, p.get_absolute_url()),
    ),
    Kind(
        "documents",
        _("Documents"),
        specs.DOCUMENT,
        lambda user: Document.objects.visible_to(user),
        lambda d: (d.original_name, str(d.parent or ""), d.parent.get_absolute_url() if d.parent else ""),
        ("opportunity", "organization", "contact"),
    ),
]
KINDS_BY_KEY = {k.key: k for k in KINDS}


def ranked(queryset, spec: Spec, query: str, *, also: Q | None = None, candidates: int | None = None):
    """The rows of ``queryset`` (already limited to what the reader may see) that match ``query``,
    best first, among at most ``candidates`` matches. ``queryset.none()`` for a too-short query.

    Shared with the API lists' ``?search=``."""
    candidates = candidates or CANDIDATES
    condition = match_q(spec, query)
    if condition is None:
        return queryset.none()
    exact = match_q(spec, query, typos=False)
    if also is not None:
        condition |= also
        exact |= also
    model = queryset.model
    # Two capped sets: the rows containing the query (so "Bench Company 0000042" is never crowded
    # out by thousands of near misses), and the rows within a typo of it.
    containing = queryset.filter(exact).values("pk")[:candidates]
    near = queryset.filter(condition).values("pk")[:candidates]
    return (
        model._default_manager.filter(Q(pk__in=containing) | Q(pk__in=near))
        .annotate(search_score=score_expr(spec, query))
        .order_by("-search_score", "pk")
    )


def search(*, user, query: str, kinds: list[str] | None = None, limit: int = SUGGEST_LIMIT) -> list[dict]:
    """The groups of results for ``query``: one per kind with at least one hit, in the order of
    ``KINDS``, each with its best ``limit`` hits. One query per kind searched."""
    q, _k = query_parts(query)
    if not q:
        return []
    groups = []
    for kind in KINDS:
        if kinds and kind.key not in kinds:
            continue
        rows = ranked(kind.queryset(user), kind.spec, query, also=kind.also(query))
        if kind.related:
            rows = rows.select_related(*kind.related)
        hits = []
        for row in rows[:limit]:
            title, subtitle, url = kind.describe(row)
            hits.append(Hit(kind.key, str(title), str(subtitle or ""), url, float(row.search_score or 0)))
        if hits:
            groups.append({"kind": kind.key, "label": kind.label, "hits": hits})
    return groups
