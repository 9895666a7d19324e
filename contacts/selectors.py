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
