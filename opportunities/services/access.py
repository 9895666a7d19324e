"""Who may change a deal: every service that writes one starts by locking it here."""

from django.utils.translation import gettext_lazy

from accounts.permissions import lock_for_change

from ..models import Opportunity

# What a caller who may not change a deal is told (API 403). It names no deal: the caller may not
# even see it (a quote's deal, an import's match).
NOT_EDITABLE = gettext_lazy("You may not change this deal: only its owner and their managers can.")


def opportunity_lock(opportunity: Opportunity | int, *, user) -> Opportunity:
    """Lock a deal's row for a write by ``user``; :class:`~accounts.permissions.ChangeNotAllowed`
    if they may not change it. Every service that changes a deal (or its lines) starts here, the
    stage service included, so a new face (a bulk action, an automation) cannot skip the check."""
    pk = opportunity.pk if isinstance(opportunity, Opportunity) else opportunity
    return lock_for_change(Opportunity, pk, user=user, message=NOT_EDITABLE)
