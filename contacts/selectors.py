"""Every read of organizations and contacts that a page, the API or an export needs."""

from django.db.models import Count, Q

from .models import Contact, Organization


def organization_list(*, user, include_archived: bool = False):
    """Organizations ``user`` may see, with the counts the list shows, in one query."""
    qs = Organization.objects.visible_to(user)
    if not include_archived:
        qs = qs.active()
    return (
        qs.select_related("owner", "parent")
        .annotate(
            open_deal_count=Count(
                "opportunities",
                filter=Q(opportunities__status="open", opportunities__archived_at__isnull=True),
                distinct=True,
            ),
        )
        .order_by("name", "id")
    )


def organization_get(*, user, pk) -> Organization:
    """One organization ``user`` may see (archived ones too); raises DoesNotExist otherwise."""
    return Organization.objects.visible_to(user).select_related("owner", "parent").get(pk=pk)


def contact_list(*, user, include_archived: bool = False):
    qs = Contact.objects.visible_to(user)
    if not include_archived:
        qs = qs.active()
    return qs.select_related("organization", "owner")


def contact_get(*, user, pk) -> Contact:
    return Contact.objects.visible_to(user).select_related("organization", "owner").get(pk=pk)


LOOKUP_LIMIT = 20


def _words_q(text: str, fields) -> Q:
    """Every word of ``text`` in one of ``fields`` (case-insensitive)."""
    q = Q()
    for word in text.split()[:5]:
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": word})
        q &= any_field
    return q


def organization_search(*, user, text: str = "", limit: int = LOOKUP_LIMIT) -> tuple[list, int]:
    """Active organizations ``user`` may see whose name, city or VAT number contain every word of
    ``text``, by name: the first ``limit`` and how many match (two queries)."""
    qs = Organization.objects.visible_to(user).active().filter(_words_q(text, ("name", "city", "vat_number")))
    return list(qs.order_by("name", "id").only("id", "name", "city")[:limit]), qs.count()


def contact_search(*, user, text: str = "", organization_id: int | None = None, limit: int = LOOKUP_LIMIT):
    """Active contacts ``user`` may see whose name or e-mail contain every word of ``text``, only
    those of ``organization_id`` when given: the first ``limit`` and how many match (two queries)."""
    qs = Contact.objects.visible_to(user).active().filter(_words_q(text, ("first_name", "last_name", "email")))
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    results = qs.select_related("organization").order_by("last_name", "first_name", "id")[:limit]
    return list(results), qs.count()
