"""Reads of users that a page or the API needs."""

from django.db.models import Q

from .permissions import assignable_owners

LOOKUP_LIMIT = 20


def owner_search(*, user, text: str = "", limit: int = LOOKUP_LIMIT) -> tuple[list, int]:
    """The users ``user`` may make the owner of a record (:func:`assignable_owners`) whose name,
    username or e-mail contain every word of ``text``: the first ``limit`` by name and how many match."""
    qs = assignable_owners(user)
    for word in text.split()[:5]:
        qs = qs.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return list(qs.order_by("first_name", "last_name", "id")[:limit]), qs.count()
