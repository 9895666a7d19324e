"""Legal hold: while it is set on a contact (a dispute, an audit, a request from the authorities),
their data may not be erased. Administrators and managers set and lift it, with a reason."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import ChangeNotAllowed, can_restore
from core.exceptions import ValidationError
from core.outbox import event_emit

from ..models import LegalHold

NOT_ALLOWED = gettext_lazy(
    "Only an administrator or a manager who may change this contact can set or lift a legal hold."
)


def may_hold(user, contact) -> bool:
    """Whether ``user`` may set or lift a legal hold on ``contact``: an administrator, or a manager
    who may change the contact (as for restoring an archived record)."""
    return can_restore(user, contact)


@transaction.atomic
def legal_hold_set(*, user, contact, reason: str) -> LegalHold:
    """Put ``contact`` under legal hold (or change the reason of the hold already set)."""
    if not may_hold(user, contact):
        raise ChangeNotAllowed(NOT_ALLOWED)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why the data must be kept (e.g. the dispute or the audit).")})
    hold, created = LegalHold.objects.select_for_update().get_or_create(
        contact=contact, defaults={"reason": reason[:200], "set_by": user, "set_at": timezone.now()}
    )
    if not created:
        hold.reason, hold.set_by, hold.set_at = reason[:200], user, timezone.now()
        hold.save(update_fields=["reason", "set_by", "set_at"])
    event_emit("contact.legal_hold_set", {"contact": {"id": contact.pk}, "changed_by": user.pk})
    return hold


@transaction.atomic
def legal_hold_lift(*, user, contact) -> bool:
    """Lift the legal hold on ``contact``; False when none was set."""
    if not may_hold(user, contact):
        raise ChangeNotAllowed(NOT_ALLOWED)
    deleted, _rows = LegalHold.objects.filter(contact=contact).delete()
    if deleted:
        event_emit("contact.legal_hold_lifted", {"contact": {"id": contact.pk}, "changed_by": user.pk})
    return bool(deleted)
